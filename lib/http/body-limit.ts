// How large a signed delivery's body may be (config `intake.max_body_bytes`), and why.
//
// API Gateway (HTTP API) takes request bodies up to 10 MB, but it hands each request to Lambda as one
// synchronous invocation, and Lambda takes at most 6 MB (6,291,456 bytes) of payload: the whole event
// JSON, not just the body. A body API Gateway does not pass as text is base64-encoded in the event
// (`isBase64Encoded`), 4 bytes for every 3, and around it sit the headers and the request context.
// A body that does not fit never reaches the handler: Lambda refuses the invocation and the sender gets
// API Gateway's error instead of the handler's 413 naming the limit. So the limit is the largest body
// whose base64 form still fits beside a worst-case envelope, and a body just over it still reaches the
// handler, which answers 413. (A body passed as text grows only by the JSON escaping of its quotes,
// backslashes and control characters: far less than a third for GitHub's JSON. A sender who stuffs
// a body or headers with characters that escape to six bytes gets API Gateway's error instead of ours,
// which changes nothing.)

/** API Gateway HTTP API's request body quota. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Lambda's synchronous invocation payload quota: the whole event JSON. */
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * Room kept for the event around the body. HTTP API caps the request line and headers at 10,240 bytes;
 * the event carries them at most twice (raw and parsed: `rawQueryString` and `queryStringParameters`,
 * `headers` and `cookies`), JSON escaping at most doubles printable ASCII, and the request context is
 * under 2 KB on the public routes (no authorizer claims): about 43 KB, rounded up to 64 KiB.
 */
export const API_EVENT_ENVELOPE_BYTES = 64 * 1024;

/** The largest body whose base64 form fits the event: 4,669,440 bytes (about 4.45 MiB). */
export const MAX_BODY_BYTES = Math.floor((LAMBDA_SYNC_PAYLOAD_BYTES - API_EVENT_ENVELOPE_BYTES) / 4) * 3;

/** 4 MiB: under the maximum with room to spare; GitHub's reports and webhooks are far smaller. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
