import { describe, expect, it } from "vitest";
import {
  AwsError,
  BadRequestError,
  KeySetUnavailableError,
  PayloadTooLargeError,
  SignatureError,
} from "../../lib/errors.js";
import { errorResponse } from "../../lib/http/error-response.js";
import { recordingLog } from "../helpers/recording-log.js";

describe("errorResponse", () => {
  it.each([
    [new BadRequestError("body is not valid JSON"), 400, "bad_request"],
    [new SignatureError("signature does not verify"), 401, "signature"],
    [new PayloadTooLargeError("too big"), 413, "payload_too_large"],
  ])("answers %s with its status, a snake_case code and its message", (error, status, code) => {
    const result = errorResponse(error, recordingLog().log);
    expect(result.statusCode).toBe(status);
    expect(JSON.parse(result.body ?? "")).toEqual({ error: code, message: error.message });
  });

  it("asks the sender to retry a transient outage", () => {
    const result = errorResponse(new KeySetUnavailableError("keys unavailable"), recordingLog().log);
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ "retry-after": "5" });
  });

  it("answers 503 with Retry-After when a dependency is out for now (the store unreachable)", () => {
    const error = new AwsError("dynamodb:BatchGetItem timed out", "NetworkingError", undefined, {
      transient: true,
    });
    const result = errorResponse(error, recordingLog().log);
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ "retry-after": "5" });
  });

  it("hides the detail of an unexpected error from the caller but logs it", () => {
    const { log, lines } = recordingLog();
    const result = errorResponse(new TypeError("cannot read x of undefined"), log);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain("cannot read");
    expect(lines.join("\n")).toContain("cannot read");
  });

  it.each([true, false])(
    "never hands an AWS service's own text to the caller, transient or not (transient %s)",
    (transient) => {
      const text =
        "dynamodb:PutItem failed: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/tourniquet-prod-intake/x is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/tourniquet-prod";
      const { log, lines } = recordingLog();
      const result = errorResponse(new AwsError(text, "AccessDeniedException", 400, { transient }), log);
      expect(result.statusCode).toBeGreaterThanOrEqual(500);
      expect(JSON.parse(result.body ?? "").message).toMatch(/the request can be retried$/);
      expect(result.body).not.toMatch(/arn:|123456789012|tourniquet-prod/);
      expect(lines.join("\n")).toContain("arn:aws:dynamodb:eu-west-1:123456789012:table/tourniquet-prod");
    },
  );
});
