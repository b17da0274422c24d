import middy from "@middy/core";
import { ADMIN_ROUTE_NEEDS, type AdminAccess, parseAdminAccess } from "../lib/admin/admin-access.js";
import { authenticateAdmin, requirePermission } from "../lib/admin/admin-auth.js";
import { dismissLeak, parseDismissal, retryLeak } from "../lib/admin/leak-actions.js";
import { type ExportLimits, exportHeaders, exportLeaks } from "../lib/admin/leak-export.js";
import { getLeak, listLeaks } from "../lib/admin/leak-queries.js";
import { leakOverview, type OverviewOptions } from "../lib/admin/overview.js";
import { NotFoundError } from "../lib/errors.js";
import { type ApiEvent, type ApiResult, jsonResponse, rawBody, textResponse } from "../lib/http/api-event.js";
import { httpErrors } from "../lib/http/error-response.js";
import type { Log } from "../lib/log.js";
import type { RemediationQueue } from "../lib/queue/remediation-queue.js";
import { awsQueue } from "../lib/runtime/aws-queue.js";
import { awsStore } from "../lib/runtime/aws-store.js";
import { createLogger } from "../lib/runtime/logger.js";
import type { LeakStore } from "../lib/store/leak-store.js";
import { once } from "../lib/util/concurrency.js";

export interface AdminDeps {
  store: LeakStore;
  /** Where a retry sends the leak back to the worker. */
  queue: RemediationQueue;
  /** Local stack only; deployed, API Gateway's JWT authorizer authenticates. */
  adminToken?: string | undefined;
  /** Which token claim and values may read, retry and dismiss (default: Cognito groups). */
  access?: AdminAccess | undefined;
  /** Export page bounds (tests lower them). */
  exportLimits?: Partial<ExportLimits> | undefined;
  overview?: OverviewOptions | undefined;
}

/**
 * GET /v1/admin/leaks, /leaks/export, /leaks/{id} and /overview; POST /v1/admin/leaks/{id}/retry and
 * /dismiss.
 */
export function createAdminApiHandler(getDeps: () => Promise<AdminDeps>, log: Log) {
  return middy<ApiEvent, ApiResult>()
    .use(httpErrors(log))
    .handler(async (event) => {
      const deps = await getDeps();
      const admin = authenticateAdmin(event, deps.adminToken, deps.access);
      const needs = ADMIN_ROUTE_NEEDS[event.routeKey];
      if (!needs) throw new NotFoundError(`no admin route ${event.routeKey}`);
      requirePermission(admin, needs, deps.access);
      switch (event.routeKey) {
        case "GET /v1/admin/leaks":
          return jsonResponse(200, await listLeaks(deps.store, event.queryStringParameters ?? {}));
        case "GET /v1/admin/leaks/export": {
          const params = event.queryStringParameters ?? {};
          const exported = await exportLeaks(deps.store, params, { limits: deps.exportLimits });
          return textResponse(
            200,
            exported.body,
            exported.contentType,
            exportHeaders(exported, event.rawPath, params),
          );
        }
        case "GET /v1/admin/overview":
          return jsonResponse(
            200,
            await leakOverview(deps.store, event.queryStringParameters ?? {}, deps.overview),
          );
        case "GET /v1/admin/leaks/{id}":
          return jsonResponse(
            200,
            await getLeak(deps.store, event.pathParameters?.id, event.queryStringParameters ?? {}),
          );
        case "POST /v1/admin/leaks/{id}/retry": {
          const result = await retryLeak(deps, event.pathParameters?.id, admin);
          return jsonResponse(result.retried ? 202 : 200, result);
        }
        case "POST /v1/admin/leaks/{id}/dismiss":
          return jsonResponse(
            200,
            await dismissLeak(
              deps,
              event.pathParameters?.id,
              admin,
              parseDismissal(rawBody(event).toString("utf8")),
            ),
          );
        default:
          throw new NotFoundError(`no admin route ${event.routeKey}`);
      }
    });
}

const log = createLogger();
export const handler = createAdminApiHandler(
  once(async () => ({
    store: awsStore(),
    queue: awsQueue(),
    access: parseAdminAccess(process.env.ADMIN_ACCESS),
  })),
  log,
);
