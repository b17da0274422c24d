import middy from "@middy/core";
import type { IntakeMetrics } from "../intake/intake-metrics.js";
import type { Log } from "../log.js";
import { type ApiEvent, type ApiResult, header, jsonResponse, rawBody } from "./api-event.js";
import { httpErrors } from "./error-response.js";

// The shape both GitHub routes share (partner reports, App webhooks): the raw body and a header lookup
// go to the use case, which gets the function's metrics; its answer becomes the JSON response, and
// errors become statuses in one place. Metrics are published once per invocation, whatever happened.

export interface SignedDelivery {
  /** Header lookup, case-insensitive. */
  header(name: string): string | undefined;
  /** The bytes as sent: signatures are over these. */
  body: Buffer;
}

export function signedDeliveryRoute<D>(options: {
  deps: () => Promise<D>;
  log: Log;
  metrics: IntakeMetrics;
  receive: (
    deps: D & { metrics: IntakeMetrics },
    delivery: SignedDelivery,
  ) => Promise<{ status: number; body: unknown }>;
}) {
  const { deps, log, metrics, receive } = options;
  return middy<ApiEvent, ApiResult>()
    .use(httpErrors(log))
    .handler(async (event) => {
      try {
        const answer = await receive(
          { ...(await deps()), metrics },
          { header: (name) => header(event, name), body: rawBody(event) },
        );
        return jsonResponse(answer.status, answer.body);
      } finally {
        metrics.flush();
      }
    });
}
