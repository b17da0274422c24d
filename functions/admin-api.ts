import middy from "@middy/core";
import { authenticateAdmin } from "../lib/admin/admin-auth.js";
import { getLeak, listLeaks } from "../lib/admin/leak-queries.js";
import { NotFoundError } from "../lib/errors.js";
import { type ApiEvent, type ApiResult, jsonResponse } from "../lib/http/api-event.js";
import { httpErrors } from "../lib/http/error-response.js";
import type { Log } from "../lib/log.js";
import { awsStore } from "../lib/runtime/aws-runtime.js";
import { createLogger } from "../lib/runtime/logger.js";
import type { LeakStore } from "../lib/store/leak-store.js";
import { once } from "../lib/util/concurrency.js";

export interface AdminDeps {
  store: LeakStore;
  /** Local stack only; deployed, API Gateway's JWT authorizer authenticates. */
  adminToken?: string | undefined;
}

/** GET /v1/admin/leaks and GET /v1/admin/leaks/{id}. */
export function createAdminApiHandler(getDeps: () => Promise<AdminDeps>, log: Log) {
  return middy<ApiEvent, ApiResult>()
    .use(httpErrors(log))
    .handler(async (event) => {
      const deps = await getDeps();
      authenticateAdmin(event, deps.adminToken);
      switch (event.routeKey) {
        case "GET /v1/admin/leaks":
          return jsonResponse(200, await listLeaks(deps.store, event.queryStringParameters ?? {}));
        case "GET /v1/admin/leaks/{id}":
          return jsonResponse(200, await getLeak(deps.store, event.pathParameters?.id));
        default:
          throw new NotFoundError(`no admin route ${event.routeKey}`);
      }
    });
}

const log = createLogger();
export const handler = createAdminApiHandler(
  once(async () => ({ store: awsStore() })),
  log,
);
