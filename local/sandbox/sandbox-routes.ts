import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import * as z from "zod";
import {
  checkIssuerRequestSignature,
  REQUEST_ID_HEADER,
  SIGNATURE_HEADER,
  SIGNATURE_TOLERANCE_SECONDS,
  TIMESTAMP_HEADER,
} from "../../lib/issuers/http-issuer-signature.js";
import type { SandboxFaults, SandboxRoute } from "./sandbox-faults.js";
import type { SandboxKeyService } from "./sandbox-key-service.js";

// The sandbox issuer's HTTP face: the HTTP issuer protocol (docs/http-issuer-protocol.md) plus two
// unsigned local conveniences to mint and inspect keys. Tokens are never logged or echoed back,
// except the one a caller mints with POST /keys.

export type { SandboxFault, SandboxFaults, SandboxRoute } from "./sandbox-faults.js";
export { combineFaults, delayTimes, failTimes } from "./sandbox-faults.js";

export const SANDBOX_BODY_LIMIT_BYTES = 64 * 1024;

export interface SandboxHandlerOptions {
  service: SandboxKeyService;
  /** Shared HMAC secret of the HTTP issuer protocol. */
  secret: string;
  /** Clock in milliseconds, for signature freshness and replay memory. */
  now?: (() => number) | undefined;
  faults?: SandboxFaults | undefined;
}

/** `path` has the `/sandbox` mount prefix already stripped, e.g. `/verify`. */
export type SandboxHandler = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;

/** An answer other than 2xx, thrown to short-circuit a route. */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const str = z.string().min(1).max(4096);
const verifyBody = z.object({ token: str, type: str });
const keyBody = z.object({ key_id: str, type: str, leak_id: str });
const createKeyBody = z.object({
  owner: z.object({ id: str.optional(), email: z.email().optional(), name: str.optional() }).optional(),
});

export function createSandboxHandler(options: SandboxHandlerOptions): SandboxHandler {
  const { service, secret, faults } = options;
  const now = options.now ?? Date.now;
  const replay = new ReplayGuard();

  // Signature, then replay, then shape: an unsigned request learns nothing about the body's schema.
  function authenticate(req: IncomingMessage, raw: string): void {
    const timestamp = header(req, TIMESTAMP_HEADER);
    const requestId = header(req, REQUEST_ID_HEADER);
    const check = checkIssuerRequestSignature({
      requestId,
      secret,
      signature: header(req, SIGNATURE_HEADER),
      timestamp,
      body: raw,
      nowSeconds: Math.floor(now() / 1000),
    });
    if (!check.ok) throw new HttpFailure(401, "bad_signature", `signature ${check.reason}`);
    if (!requestId) throw new HttpFailure(401, "bad_signature", "signature missing");
    // Remember the id until its timestamp goes stale; after that the signature check rejects it.
    const expiresAt = (Number(timestamp) + SIGNATURE_TOLERANCE_SECONDS) * 1000;
    if (!replay.remember(requestId, expiresAt, now())) {
      throw new HttpFailure(401, "replayed_request", "request id already used");
    }
  }

  async function protocolCall(route: SandboxRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isJson(req))
      throw new HttpFailure(415, "unsupported_media_type", "Content-Type must be application/json");
    const raw = await readBody(req);
    const fault = faults?.next(route);
    if (fault && "status" in fault) {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
      throw new HttpFailure(fault.status, codeFor(fault.status), "injected fault", headers);
    }
    if (fault) await sleep(fault.delayMs);
    authenticate(req, raw);

    if (route === "verify") {
      const { token } = parse(raw, verifyBody);
      const v = service.verify(token);
      const body =
        v.status === "unknown"
          ? { status: v.status }
          : { status: v.status, key_id: v.keyId, owner: v.owner, evidence: v.evidence };
      return send(res, 200, body);
    }
    const { key_id } = parse(raw, keyBody);
    if (route === "revoke") {
      const r = service.revoke(key_id);
      if (!r) throw unknownKey();
      return send(res, 200, {
        key_id,
        status: "revoked",
        revoked_at: r.revokedAt,
        already_revoked: r.alreadyRevoked,
      });
    }
    const r = await service.rotate(key_id);
    if (!r) throw unknownKey();
    send(res, 200, { key_id, replacement_key_id: r.replacementKeyId, delivered_to_owner: true });
  }

  async function createKey(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const { owner } = raw.trim() === "" ? {} : parse(raw, createKeyBody);
    const issued = service.issue(owner);
    // The one response that carries a token: keep it out of caches.
    res.setHeader("cache-control", "no-store");
    send(res, 201, { token: issued.token, key_id: issued.keyId, status: issued.status });
  }

  function showKey(res: ServerResponse, keyId: string): void {
    const key = service.get(keyId);
    if (!key) throw unknownKey();
    send(res, 200, {
      key_id: key.keyId,
      status: key.status,
      owner: key.owner,
      revocations: key.revocations,
      created_at: key.createdAt,
      revoked_at: key.revokedAt ?? null,
      last_used_at: key.lastUsedAt ?? null,
      replaced_by: key.replacedBy ?? null,
    });
  }

  return async (req, res, rawPath) => {
    const path = rawPath.split("?")[0] ?? "";
    const method = req.method ?? "GET";
    try {
      if (method === "POST" && path === "/keys") return await createKey(req, res);
      const keyPath = /^\/keys\/([A-Za-z0-9_-]{1,128})$/.exec(path);
      if (method === "GET" && keyPath?.[1]) return showKey(res, keyPath[1]);
      if (method === "POST" && (path === "/verify" || path === "/revoke" || path === "/rotate")) {
        return await protocolCall(path.slice(1) as SandboxRoute, req, res);
      }
      // The path is not echoed: a caller may have put a token in it.
      throw new HttpFailure(404, "not_found", `no such route: ${method}`);
    } catch (error) {
      if (error instanceof HttpFailure) {
        for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
        return send(res, error.status, { error: error.code, message: error.message });
      }
      // Unexpected errors may carry request data in their message; answer generically.
      send(res, 500, { error: "internal", message: "internal error" });
    }
  };
}

/** Request ids seen recently, each kept until the request it came with can no longer be accepted. */
class ReplayGuard {
  private readonly seen = new Map<string, number>();

  /** False when the id was already used and is still remembered. */
  remember(id: string, expiresAt: number, now: number): boolean {
    for (const [seenId, until] of this.seen) if (until < now) this.seen.delete(seenId);
    if (this.seen.has(id)) return false;
    this.seen.set(id, Math.max(expiresAt, now));
    return true;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

function isJson(req: IncomingMessage): boolean {
  const type = header(req, "content-type") ?? "";
  return type.split(";")[0]?.trim().toLowerCase() === "application/json";
}

function readBody(req: IncomingMessage): Promise<string> {
  const tooLarge = () =>
    new HttpFailure(413, "payload_too_large", `body exceeds ${SANDBOX_BODY_LIMIT_BYTES} bytes`);
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"]) > SANDBOX_BODY_LIMIT_BYTES) {
      req.resume(); // drain so the connection can carry the 413
      return reject(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > SANDBOX_BODY_LIMIT_BYTES) {
        over = true;
        chunks.length = 0;
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Errors name the fields at fault, never their values (one of them may be a token). */
function parse<T>(raw: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new HttpFailure(400, "bad_request", "body is not valid JSON");
  }
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const fields = [...new Set(result.error.issues.map((issue) => issue.path.join(".") || "(body)"))];
  throw new HttpFailure(400, "bad_request", `invalid or missing fields: ${fields.join(", ")}`);
}

function unknownKey(): HttpFailure {
  return new HttpFailure(404, "unknown_key", "no key with this key_id");
}

function codeFor(status: number): string {
  const codes: Record<number, string> = {
    400: "bad_request",
    401: "bad_signature",
    403: "forbidden",
    404: "unknown_key",
    408: "timeout",
    429: "rate_limited",
    503: "unavailable",
  };
  return codes[status] ?? (status >= 500 ? "internal" : "error");
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return; // the client gave up (e.g. timed out during a delay)
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}
