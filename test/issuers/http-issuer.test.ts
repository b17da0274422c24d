import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, IssuerError } from "../../lib/errors.js";
import { parseRetryAfter } from "../../lib/http/outbound.js";
import { type Post, type PostInit, post } from "../../lib/http/post.js";
import { HttpIssuer, type HttpIssuerOptions } from "../../lib/issuers/http-issuer.js";
import { SandboxKeyService } from "../../local/sandbox/sandbox-key-service.js";
import {
  createSandboxHandler,
  delayTimes,
  failTimes,
  type SandboxFaults,
} from "../../local/sandbox/sandbox-routes.js";
import { type LoopbackServer, serve } from "../helpers/loopback-server.js";
import { rejection } from "../helpers/rejection.js";

// HttpIssuer against the real sandbox issuer on a real loopback server: the protocol's two ends
// are tested together, faults are injected by the sandbox, not by mocking the client.

const SECRET = "test-shared-secret";
const TYPE = "tourniquet_sandbox_token";

const delivered: { keyId: string; token: string }[] = [];
const service = new SandboxKeyService({
  deliverSecret: (_owner, keyId, token) => void delivered.push({ keyId, token }),
});
let faults: SandboxFaults | undefined;
let server: LoopbackServer;
let baseUrl: string;

beforeAll(async () => {
  const handler = createSandboxHandler({
    service,
    secret: SECRET,
    faults: { next: (route) => faults?.next(route) },
  });
  server = await serve((req, res) => {
    const path = req.url ?? "/";
    if (path.startsWith("/sandbox/")) void handler(req, res, path.slice("/sandbox".length));
    else res.writeHead(404).end();
  });
  baseUrl = `${server.url}/sandbox`;
});
afterEach(() => {
  faults = undefined;
});
afterAll(() => server.close());

function issuer(options: Partial<HttpIssuerOptions> = {}): HttpIssuer {
  return new HttpIssuer({ name: "sandbox", baseUrl, secret: SECRET, ...options });
}

const issuerError = (call: Promise<unknown>) => rejection(call, IssuerError);

describe("HttpIssuer against the sandbox issuer", () => {
  it("verifies an active key with its owner and evidence", async () => {
    const { token, keyId } = service.issue({ email: "ada@example.test", name: "Ada" });
    const result = await issuer().verify({ token, type: TYPE });
    expect(result).toEqual({
      status: "active",
      keyId,
      owner: { id: expect.stringMatching(/^user_/), email: "ada@example.test", name: "Ada" },
      evidence: { created_at: expect.any(String), last_used_at: null },
    });
  });

  it("verifies a revoked key as inactive and a stranger's token as unknown", async () => {
    const { token, keyId } = service.issue();
    service.revoke(keyId);
    expect(await issuer().verify({ token, type: TYPE })).toMatchObject({ status: "inactive", keyId });
    expect(await issuer().verify({ token: "ghp_notoursatall", type: TYPE })).toEqual({ status: "unknown" });
  });

  it("revokes idempotently: the second call reports alreadyRevoked and the key is revoked once", async () => {
    const { keyId } = service.issue();
    const request = { keyId, type: TYPE, leakId: "leak_1" };
    const first = await issuer().revoke(request);
    expect(first).toEqual({ keyId, alreadyRevoked: false, revokedAt: expect.any(String) });
    expect(await issuer().revoke(request)).toEqual({ ...first, alreadyRevoked: true });
    const shown = await (await fetch(`${baseUrl}/keys/${keyId}`)).json();
    expect(shown).toMatchObject({
      key_id: keyId,
      status: "revoked",
      revocations: 1,
      revoked_at: first.revokedAt,
    });
  });

  it("rotates: the issuer delivers the new secret to the owner and returns only its key id", async () => {
    const { keyId } = service.issue();
    const rotation = await issuer().rotate({ keyId, type: TYPE, leakId: "leak_2" });
    expect(rotation).toEqual({
      keyId,
      replacementKeyId: expect.stringMatching(/^key_/),
      deliveredToOwner: true,
    });
    const delivery = delivered.find((d) => d.keyId === rotation.replacementKeyId);
    expect(delivery).toBeDefined();
    expect(service.verify(delivery?.token ?? "")).toMatchObject({
      status: "active",
      keyId: rotation.replacementKeyId,
    });
  });

  it("fails permanently when the issuer rejects the signature (wrong secret or skewed clock)", async () => {
    const { token } = service.issue();
    const wrongSecret = await issuerError(issuer({ secret: "not-the-secret" }).verify({ token, type: TYPE }));
    expect(wrongSecret.transient).toBe(false);
    expect(wrongSecret.message).toBe('issuer "sandbox" verify: HTTP 401 from issuer (bad_signature)');

    const skewed = await issuerError(
      issuer({ now: () => Date.now() - 10 * 60_000 }).verify({ token, type: TYPE }),
    );
    expect(skewed).toMatchObject({ transient: false, message: expect.stringContaining("HTTP 401") });
  });

  it("gets a replayed request rejected by the sandbox", async () => {
    const { token } = service.issue();
    const sent: { url: URL; init: PostInit }[] = [];
    const recording: Post = (url, init) => {
      sent.push({ url, init });
      return post(url, init);
    };
    await issuer({ post: recording }).verify({ token, type: TYPE });
    const [original] = sent;
    if (!original) throw new Error("no request recorded");
    const replay = await fetch(original.url, {
      method: "POST",
      headers: original.init.headers,
      body: original.init.body,
    });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: "replayed_request" });
  });

  it("fails permanently on an unknown key", async () => {
    const error = await issuerError(issuer().revoke({ keyId: "key_nope", type: TYPE, leakId: "leak_3" }));
    expect(error).toMatchObject({
      transient: false,
      message: 'issuer "sandbox" revoke: HTTP 404 from issuer (unknown_key)',
    });
  });

  it("treats 429 as transient and passes Retry-After on", async () => {
    const { token } = service.issue();
    faults = failTimes("verify", 1, 429, 7);
    const error = await issuerError(issuer().verify({ token, type: TYPE }));
    expect(error).toMatchObject({ transient: true, retryAfterSeconds: 7 });
    expect(error.message).toBe('issuer "sandbox" verify: HTTP 429 from issuer (rate_limited)');
    expect(await issuer().verify({ token, type: TYPE })).toMatchObject({ status: "active" });
  });

  it("treats 5xx as transient and other 4xx as permanent", async () => {
    const { keyId } = service.issue();
    const request = { keyId, type: TYPE, leakId: "leak_4" };
    for (const [status, transient] of [
      [503, true],
      [500, true],
      [408, true],
      [401, false],
      [404, false],
      [400, false],
    ] as const) {
      faults = failTimes("revoke", 1, status);
      const error = await issuerError(issuer().revoke(request));
      expect(error, `HTTP ${status}`).toMatchObject({ transient, retryAfterSeconds: undefined });
      expect(error.message).toContain(`revoke: HTTP ${status} from issuer`);
    }
    expect(service.get(keyId)?.status).toBe("active");
  });

  it("treats an invalid 2xx body as a permanent protocol error", async () => {
    faults = failTimes("rotate", 1, 200);
    const { keyId } = service.issue();
    const error = await issuerError(issuer().rotate({ keyId, type: TYPE, leakId: "leak_5" }));
    expect(error.transient).toBe(false);
    expect(error.message).toMatch(/^issuer "sandbox" rotate: HTTP 200 from issuer: invalid response/);
  });

  it("times out a slow issuer as a transient failure", async () => {
    const { token } = service.issue();
    faults = delayTimes("verify", 1, 1000);
    const started = Date.now();
    const error = await issuerError(issuer({ timeoutMs: 100 }).verify({ token, type: TYPE }));
    expect(Date.now() - started).toBeLessThan(900);
    expect(error).toMatchObject({
      transient: true,
      message: 'issuer "sandbox" verify: no answer within 100 ms',
    });
  });

  it("stops when the caller aborts, as a transient failure", async () => {
    const { token } = service.issue();
    faults = delayTimes("verify", 1, 1000);
    const error = await issuerError(
      issuer().verify({ token, type: TYPE }, { signal: AbortSignal.timeout(50) }),
    );
    expect(error).toMatchObject({ transient: true, message: 'issuer "sandbox" verify: aborted by caller' });
  });

  it("treats an unreachable issuer as a transient network error", async () => {
    const closed = await serve((_req, res) => res.end());
    const url = closed.url;
    await closed.close();
    const error = await issuerError(issuer({ baseUrl: url }).verify({ token: "tqs_x", type: TYPE }));
    expect(error.transient).toBe(true);
    expect(error.message).toMatch(/^issuer "sandbox" verify: network error/);
  });

  it("never puts the token in an error message", async () => {
    const { token } = service.issue();
    const calls: [SandboxFaults | undefined, Partial<HttpIssuerOptions>][] = [
      [failTimes("verify", 1, 503), {}],
      [failTimes("verify", 1, 200), {}],
      [delayTimes("verify", 1, 500), { timeoutMs: 50 }],
      [undefined, { secret: "wrong" }],
    ];
    for (const [plan, options] of calls) {
      faults = plan;
      const error = await issuerError(issuer(options).verify({ token, type: TYPE }));
      expect(error.message).not.toContain(token);
      expect(String(error.cause ?? "")).not.toContain(token);
    }
  });

  it("refuses an answer that echoes the token, and does not follow redirects", async () => {
    const token = "tqs_echoedbackbyabuggyissuer0000000000";
    const echo: Post = async () => ({
      status: 200,
      header: () => undefined,
      text: JSON.stringify({ status: "active", key_id: "key_1", evidence: { seen: token } }),
    });
    const echoed = await issuerError(issuer({ post: echo }).verify({ token, type: TYPE }));
    expect(echoed.transient).toBe(false);
    expect(echoed.message).not.toContain(token);

    const redirecting = await serve((_req, res) =>
      res.writeHead(307, { location: `${baseUrl}/verify` }).end(),
    );
    try {
      const error = await issuerError(issuer({ baseUrl: redirecting.url }).verify({ token, type: TYPE }));
      expect(error).toMatchObject({
        transient: false,
        message: 'issuer "sandbox" verify: HTTP 307 from issuer',
      });
    } finally {
      await redirecting.close();
    }
  });

  // Issue 9, point 11: the guard read the raw text only, so a JSON-escaped echo (`\/`, `\u0061`) of
  // the token got through into evidence, the owner's name and email, and from there the admin API.
  describe("refuses an answer that echoes the token JSON-escaped", () => {
    const token = "tqs_Ab/cd+ef9a8b7c6d5e4f3a2b1c0";
    const escapes: [string, (json: string) => string][] = [
      ["as \\/", (json) => json.replaceAll("tqs_Ab/cd", "tqs_Ab\\/cd")],
      ["as \\u0061", (json) => json.replaceAll("f9a8b", "f9\\u00618b")],
      ["wholly as \\uXXXX", (json) => json.replaceAll(token, [...token].map(unicodeEscape).join(""))],
    ];
    const places: [string, (echo: string) => object][] = [
      ["evidence", (echo) => ({ evidence: { note: `seen ${echo} in use` } })],
      [
        "nested evidence",
        (echo) => ({ evidence: { calls: [{ headers: { authorization: `Bearer ${echo}` } }] } }),
      ],
      ["an evidence field name", (echo) => ({ evidence: { [echo]: true } })],
      ["the owner's name", (echo) => ({ owner: { name: echo } })],
      ["the owner's email", (echo) => ({ owner: { email: `${echo}@example.test` } })],
      ["the owner's id", (echo) => ({ owner: { id: echo } })],
      ["the key id", (echo) => ({ key_id: echo })],
    ];
    let answer = "";
    let echoing: LoopbackServer;
    beforeAll(async () => {
      echoing = await serve((_req, res) =>
        res.writeHead(200, { "content-type": "application/json" }).end(answer),
      );
    });
    afterAll(() => echoing.close());

    for (const [place, shape] of places) {
      it.each(escapes)(`in ${place}, %s`, async (_name, encode) => {
        answer = encode(JSON.stringify({ status: "active", key_id: "key_1", ...shape(token) }));
        expect(answer).not.toContain(token);
        expect(JSON.stringify(JSON.parse(answer))).toContain(token);

        const error = await issuerError(issuer({ baseUrl: echoing.url }).verify({ token, type: TYPE }));
        expect(error).toMatchObject({
          transient: false,
          message: 'issuer "sandbox" verify: HTTP 200 from issuer: response contains the token',
        });
      });
    }
  });

  it("refuses a key id over 512 bytes as an invalid answer: cut, it would name another key", async () => {
    const answer = (keyId: string) =>
      serve((_req, res) => res.writeHead(200).end(JSON.stringify({ status: "active", key_id: keyId })));
    const long = await answer("é".repeat(257));
    const fits = await answer("k".repeat(512));
    try {
      const error = await issuerError(issuer({ baseUrl: long.url }).verify({ token: "tqs_x", type: TYPE }));
      expect(error).toMatchObject({
        transient: false,
        message: 'issuer "sandbox" verify: HTTP 200 from issuer: invalid response (key_id)',
      });
      const ok = await issuer({ baseUrl: fits.url }).verify({ token: "tqs_x", type: TYPE });
      expect(ok.keyId).toBe("k".repeat(512));
    } finally {
      await long.close();
      await fits.close();
    }
  });

  it("reads at most 1 MiB of an answer and refuses a longer one for good", async () => {
    const padding = "x".repeat(2 * 1024 * 1024);
    const huge = await serve((_req, res) =>
      res.writeHead(200).end(JSON.stringify({ status: "active", key_id: "key_1", evidence: { padding } })),
    );
    try {
      const error = await issuerError(issuer({ baseUrl: huge.url }).verify({ token: "tqs_x", type: TYPE }));
      expect(error).toMatchObject({
        transient: false,
        message: 'issuer "sandbox" verify: HTTP 200 from issuer: response larger than 1048576 bytes',
      });
    } finally {
      await huge.close();
    }
  });

  it("refuses plain HTTP to anything but loopback, and an empty secret", () => {
    expect(() => issuer({ baseUrl: "http://keys.example.com/tq" })).toThrow(ConfigError);
    expect(() => issuer({ baseUrl: "https://keys.example.com/tq" })).not.toThrow();
    expect(() => issuer({ secret: "" })).toThrow(ConfigError);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  it("reads delta-seconds and HTTP-dates", () => {
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}
