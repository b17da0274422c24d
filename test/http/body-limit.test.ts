import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_BODY_BYTES, MAX_BODY_BYTES } from "../../lib/http/body-limit.js";
import { apiEvent } from "../helpers/lambda-events.js";

// The body limit against Lambda's 6 MB synchronous payload: the event API Gateway builds around a body
// of the largest allowed size, base64-encoded, with the largest request line and headers HTTP API lets
// through, still fits; so a body one byte larger still reaches the handler, which answers 413.

const LAMBDA_EVENT_LIMIT = 6 * 1024 * 1024;
/** HTTP API's quota on the request line and header values together. */
const HTTP_API_HEADER_BYTES = 10_240;

/** A request whose headers and query fill HTTP API's quota with characters JSON escapes. */
function worstCaseEvent(bodyBytes: number) {
  const half = HTTP_API_HEADER_BYTES / 2;
  return apiEvent("POST /v1/github/secret-scanning", {
    headers: {
      "content-type": "application/json",
      "github-public-key-identifier": "0".repeat(64),
      "x-padding": '"'.repeat(half - 200),
      cookie: `a=${"\\".repeat(half / 4)}`,
    },
    queryStringParameters: { q: '"'.repeat(half / 4) },
    body: "x".repeat(bodyBytes),
    base64: true,
  });
}

describe("body limit", () => {
  it("is 4,669,440 bytes at most, and 4 MiB by default", () => {
    expect(MAX_BODY_BYTES).toBe(4_669_440);
    expect(DEFAULT_MAX_BODY_BYTES).toBeLessThanOrEqual(MAX_BODY_BYTES);
  });

  it("a body one byte over the maximum, base64-encoded in a worst-case event, still fits Lambda's payload", () => {
    const event = worstCaseEvent(MAX_BODY_BYTES + 1);
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(LAMBDA_EVENT_LIMIT);
  });

  it("is not loose: the 5 MiB the config allowed before does not fit once base64-encoded", () => {
    const event = worstCaseEvent(5 * 1024 * 1024);
    expect(Buffer.byteLength(JSON.stringify(event))).toBeGreaterThan(LAMBDA_EVENT_LIMIT);
  });
});
