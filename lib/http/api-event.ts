import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";

// Small helpers over API Gateway HTTP API (payload v2) events, used by every HTTP handler.

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** Header names are case-insensitive; API Gateway lowercases them, other callers may not. */
export function header(event: Pick<ApiEvent, "headers">, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** The body exactly as sent: signatures are over these bytes. */
export function rawBody(event: Pick<ApiEvent, "body" | "isBase64Encoded">): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
}

/** A text body (UTF-8, so API Gateway passes it as is: no base64) with its content type. */
export function textResponse(
  statusCode: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): ApiResult {
  return {
    statusCode,
    headers: { "content-type": contentType, "cache-control": "no-store", ...headers },
    body,
  };
}

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): ApiResult {
  return textResponse(statusCode, JSON.stringify(body), "application/json; charset=utf-8", headers);
}
