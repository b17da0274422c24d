import { randomUUID } from "node:crypto";
import * as z from "zod";
import { ConfigError, IssuerError } from "../errors.js";
import { fetchFailure, isTransientStatus, outboundUrl, parseRetryAfter } from "../http/outbound.js";
import { MAX_RESPONSE_BYTES, type Post, type PostAnswer, post } from "../http/post.js";
import { KEY_ID_MAX_BYTES } from "../store/field-limits.js";
import { utf8Bytes } from "../util/utf8.js";
import { echoesToken } from "./echoes-token.js";
import {
  REQUEST_ID_HEADER,
  SIGNATURE_HEADER,
  signIssuerRequest,
  TIMESTAMP_HEADER,
} from "./http-issuer-signature.js";
import type { CallOptions, Issuer, Revocation, Rotation, Verification } from "./issuer.js";

// The built-in issuer adapter: speaks the HTTP issuer protocol (docs/http-issuer-protocol.md).
// Errors say which issuer, which operation and which HTTP status, and never carry the token.

export interface HttpIssuerOptions {
  name: string;
  /** Endpoints are `{baseUrl}/verify`, `/revoke`, `/rotate`. HTTPS, or HTTP on loopback only. */
  baseUrl: string;
  /** Shared HMAC secret. */
  secret: string;
  /** Per call, including reading the response. Default 5000. */
  timeoutMs?: number | undefined;
  /** The HTTP transport (tests record or fake requests through it). */
  post?: Post | undefined;
  /** Clock in milliseconds (request timestamps, HTTP-date Retry-After). */
  now?: (() => number) | undefined;
}

type Operation = "verify" | "revoke" | "rotate";

const text = z.string().min(1);
/** Stored on the leak and named in its timeline several times: bounded (store/field-limits.ts). */
const keyId = text.refine((value) => utf8Bytes(value) <= KEY_ID_MAX_BYTES, "too long");
const owner = z.object({ id: z.string().nullish(), email: z.string().nullish(), name: z.string().nullish() });
const verifyResponse = z.discriminatedUnion("status", [
  z.object({ status: z.literal("unknown") }),
  z.object({
    status: z.enum(["active", "inactive"]),
    // Without a key id there is nothing to revoke, so it is required whenever the token is known.
    key_id: keyId,
    owner: owner.nullish(),
    evidence: z.record(z.string(), z.unknown()).nullish(),
  }),
]);
const revokeResponse = z.object({
  key_id: keyId,
  status: z.literal("revoked"),
  revoked_at: z.string().nullish(),
  already_revoked: z.boolean(),
});
const rotateResponse = z.object({
  key_id: keyId,
  replacement_key_id: keyId,
  delivered_to_owner: z.boolean(),
});

/** Statuses where the same request may succeed later. */

export class HttpIssuer implements Issuer {
  readonly name: string;
  private readonly baseUrl: URL;
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly post: Post;
  private readonly now: () => number;

  constructor(options: HttpIssuerOptions) {
    this.name = options.name;
    this.baseUrl = parseBaseUrl(options.name, options.baseUrl);
    if (!options.secret) throw new ConfigError(`issuer "${options.name}": secret is empty`);
    this.secret = options.secret;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.post = options.post ?? post;
    this.now = options.now ?? Date.now;
  }

  async verify(request: { token: string; type: string }, options?: CallOptions): Promise<Verification> {
    const body = { token: request.token, type: request.type };
    const r = await this.call("verify", body, verifyResponse, options, request.token);
    if (r.status === "unknown") return { status: "unknown" };
    return {
      status: r.status,
      keyId: r.key_id,
      owner: r.owner
        ? { id: r.owner.id ?? undefined, email: r.owner.email ?? undefined, name: r.owner.name ?? undefined }
        : undefined,
      evidence: r.evidence ?? undefined,
    };
  }

  async revoke(
    request: { keyId: string; type: string; leakId: string },
    options?: CallOptions,
  ): Promise<Revocation> {
    const body = { key_id: request.keyId, type: request.type, leak_id: request.leakId };
    const r = await this.call("revoke", body, revokeResponse, options);
    this.expectKey("revoke", request.keyId, r.key_id);
    return { keyId: r.key_id, alreadyRevoked: r.already_revoked, revokedAt: r.revoked_at ?? undefined };
  }

  /** Asks the issuer to create a replacement key and hand its secret to the owner directly. */
  async rotate(
    request: { keyId: string; type: string; leakId: string },
    options?: CallOptions,
  ): Promise<Rotation> {
    const body = { key_id: request.keyId, type: request.type, leak_id: request.leakId };
    const r = await this.call("rotate", body, rotateResponse, options);
    this.expectKey("rotate", request.keyId, r.key_id);
    return {
      keyId: r.key_id,
      replacementKeyId: r.replacement_key_id,
      deliveredToOwner: r.delivered_to_owner,
    };
  }

  /** `token`, when the body carries one, is kept out of error messages and checked against the answer. */
  private async call<T>(
    op: Operation,
    payload: object,
    schema: z.ZodType<T>,
    options: CallOptions | undefined,
    token?: string,
  ): Promise<T> {
    const fail = (what: string, extra: ConstructorParameters<typeof IssuerError>[1]) =>
      new IssuerError(redact(`issuer "${this.name}" ${op}: ${what}`, token), extra);

    // Serialized once: the signature covers exactly the bytes sent.
    const body = JSON.stringify(payload);
    const timestamp = Math.floor(this.now() / 1000);
    const requestId = randomUUID();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options?.signal ? AbortSignal.any([options.signal, timeout]) : timeout;

    let response: PostAnswer;
    try {
      response = await this.post(new URL(op, this.baseUrl), {
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signIssuerRequest(this.secret, timestamp, requestId, body),
          [REQUEST_ID_HEADER]: requestId,
        },
        body,
        signal,
      });
    } catch (error) {
      const what = fetchFailure(error, { timeout, timeoutMs: this.timeoutMs, caller: options?.signal });
      throw fail(what, { transient: true, cause: error });
    }

    const { status, text: raw } = response;
    // Never followed: a redirect would resend the token to wherever the Location points.
    if (status < 200 || status > 299) {
      const transient = isTransientStatus(status);
      const retryAfterSeconds = transient
        ? parseRetryAfter(response.header("retry-after") ?? null, this.now())
        : undefined;
      throw fail(`HTTP ${status} from issuer${issuerErrorCode(raw)}`, { transient, retryAfterSeconds });
    }
    if (response.bodyTruncated) {
      throw fail(`HTTP ${status} from issuer: response larger than ${MAX_RESPONSE_BYTES} bytes`, {
        transient: false,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw fail(`HTTP ${status} from issuer: response is not JSON`, { transient: false });
    }
    // An answer that repeats the token, even JSON-escaped, would carry it into the store and logs.
    if (token && echoesToken(raw, json, token)) {
      throw fail(`HTTP ${status} from issuer: response contains the token`, { transient: false });
    }
    // A 2xx with the wrong shape is a protocol bug on the issuer's side; retrying will not fix it.
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join(".") || "(body)"))].join(", ");
      throw fail(`HTTP ${status} from issuer: invalid response (${fields})`, {
        transient: false,
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  private expectKey(op: Operation, sent: string, got: string): void {
    if (sent !== got) {
      throw new IssuerError(`issuer "${this.name}" ${op}: response is about another key_id`, {
        transient: false,
      });
    }
  }
}

function parseBaseUrl(name: string, value: string): URL {
  // Verify requests carry the raw token: plain HTTP is acceptable only when it never leaves the host.
  const url = outboundUrl(`issuer "${name}": base URL`, value);
  // Trailing slash so `new URL("verify", base)` appends instead of replacing the last segment.
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  url.search = "";
  url.hash = "";
  return url;
}

/** The issuer's `error` code, when it looks like one: short snake_case, nothing token-like. */
function issuerErrorCode(raw: string): string {
  try {
    const code = (JSON.parse(raw) as { error?: unknown }).error;
    return typeof code === "string" && /^[a-z][a-z_]{0,39}$/.test(code) ? ` (${code})` : "";
  } catch {
    return "";
  }
}

function redact(message: string, token: string | undefined): string {
  return token ? message.split(token).join("[redacted]") : message;
}
