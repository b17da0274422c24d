import middy from "@middy/core";
import { type ApiEvent, type ApiResult, jsonResponse } from "../lib/http/api-event.js";

/** GET /healthz — liveness only: it touches no dependency, so it cannot leak anything. */
export const handler = middy<ApiEvent, ApiResult>().handler(async () => jsonResponse(200, { status: "ok" }));
