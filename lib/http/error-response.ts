import type { MiddlewareObj } from "@middy/core";
import { AwsError, TourniquetError } from "../errors.js";
import { describeError, type Log } from "../log.js";
import { type ApiEvent, type ApiResult, jsonResponse } from "./api-event.js";

// The one place that turns errors into HTTP answers: domain errors keep their status and message
// (they never carry tokens); anything else is a 500 without detail, logged for operators.

const codeOf = (error: TourniquetError) => error.errorCode;

/**
 * What a caller may read of an error. An AWS failure's text is the service's (it can name accounts,
 * roles, tables and keys): callers, most of them unauthenticated, get a fixed sentence; operators get
 * the whole text in the log.
 */
const publicMessage = (error: TourniquetError) =>
  error instanceof AwsError
    ? "a service Tourniquet stores or queues with is unavailable; the request can be retried"
    : error.message;

export function errorResponse(error: unknown, log: Log): ApiResult {
  if (error instanceof TourniquetError && error.status < 500) {
    return jsonResponse(error.status, { error: codeOf(error), message: error.message });
  }
  // A deliberate 5xx other than 500 (502: a service we depend on refused for good) keeps its message.
  if (error instanceof TourniquetError && error.status > 500 && !error.transient) {
    log.warn("request failed", { error: describeError(error) });
    return jsonResponse(error.status, { error: codeOf(error), message: publicMessage(error) });
  }
  if (error instanceof TourniquetError && error.transient) {
    log.warn("request failed, sender should retry", { error: describeError(error) });
    // A dependency out for now (the store, the queue) is the service unavailable, with when to retry.
    return jsonResponse(
      error.status > 500 ? error.status : 503,
      { error: codeOf(error), message: publicMessage(error) },
      { "retry-after": "5" },
    );
  }
  log.error("request failed", { error: describeError(error), name: (error as Error)?.name });
  return jsonResponse(500, { error: "internal", message: "internal error; the request can be retried" });
}

export function httpErrors(log: Log): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    onError: async (request) => {
      request.response = errorResponse(request.error, log);
    },
  };
}
