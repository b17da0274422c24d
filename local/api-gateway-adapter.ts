import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "aws-lambda";
import type { ApiEvent, ApiResult } from "../lib/http/api-event.js";
import { API_GATEWAY_MAX_BODY_BYTES } from "../lib/http/body-limit.js";

// Maps node:http requests to API Gateway HTTP API (payload v2) events and back, so the local stack
// runs the Lambda handlers unchanged.

export type ApiHandler = (event: ApiEvent, context: Context) => Promise<ApiResult>;

export interface Route {
  method: string;
  pattern: RegExp;
  routeKey: string;
  handler: ApiHandler;
}

/**
 * A route from an API Gateway route key such as `GET /v1/admin/leaks/{id}`; a greedy `{proxy+}` takes
 * the rest of the path, slashes included (here also nothing, so `/admin/` reaches `/admin/{proxy+}`).
 */
export function apiRoute(routeKey: string, handler: ApiHandler): Route {
  const [method = "", path = ""] = routeKey.split(" ");
  const pattern = new RegExp(
    `^${path.replace(/\{(\w+)\+\}/g, "(?<$1>.*)").replace(/\{(\w+)\}/g, "(?<$1>[^/]+)")}$`,
  );
  return { method, pattern, routeKey, handler };
}

/**
 * The routes whose pattern takes `path`, the most specific first: as API Gateway does, a static segment
 * wins over a parameter (`/v1/admin/leaks/export` is not the leak `{id}` "export").
 */
export function routesFor(routes: readonly Route[], path: string): Route[] {
  const parameters = (route: Route) => route.routeKey.split("{").length - 1;
  return routes.filter((route) => route.pattern.test(path)).sort((a, b) => parameters(a) - parameters(b));
}

export class BodyTooLargeError extends Error {}

/** API Gateway's own limit; the handlers enforce the documented, smaller one (lib/http/body-limit.ts). */
export async function readBody(req: IncomingMessage, limit = API_GATEWAY_MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function toApiEvent(
  req: IncomingMessage,
  body: Buffer,
  route: { routeKey: string; pathParameters?: Record<string, string> | undefined },
): ApiEvent {
  const url = new URL(req.url ?? "/", "http://local");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = name in query ? `${query[name]},${value}` : value;
  const now = new Date();
  const text = body.toString("utf8");
  // API Gateway passes text bodies as strings; bytes that are not UTF-8 would not survive that.
  const isText = Buffer.from(text, "utf8").equals(body);
  return {
    version: "2.0",
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: route.pathParameters,
    requestContext: {
      accountId: "local",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "localhost",
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? (isText ? text : body.toString("base64")) : undefined,
    isBase64Encoded: body.length > 0 && !isText,
  };
}

export function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export function writeApiResult(res: ServerResponse, result: ApiResult): void {
  res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
  res.end(result.body ? Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8") : undefined);
}

export function writeJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}
