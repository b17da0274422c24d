import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, NotificationError } from "../../../lib/errors.js";
import { signIssuerRequest } from "../../../lib/issuers/http-issuer-signature.js";
import { WebhookChannel, webhookPayload } from "../../../lib/notify/channels/webhook-channel.js";
import { makeLeakMessage } from "../../helpers/leak-message.js";
import { serve } from "../../helpers/loopback-server.js";
import { rejection } from "../../helpers/rejection.js";
import { WebhookReceiver } from "../../helpers/webhook-receiver.js";

// WebhookChannel against a receiver that verifies signatures the documented way, on loopback.

const SECRET = "webhook-shared-secret";
const NOW = Date.parse("2026-01-01T00:00:00Z");
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await WebhookReceiver.start(SECRET);
  receiver.nowSeconds = () => NOW / 1000;
});
afterAll(() => receiver.close());
afterEach(() => {
  receiver.requests.length = 0;
});

const channel = (options: { secret?: string; timeoutMs?: number; url?: string } = {}) =>
  new WebhookChannel({
    name: "ops-webhook",
    url: options.url ?? receiver.url,
    secret: options.secret ?? SECRET,
    timeoutMs: options.timeoutMs,
    now: () => NOW,
  });

const failure = (promise: Promise<unknown>) => rejection(promise, NotificationError);

describe("WebhookChannel", () => {
  it("posts the signed leak.notification payload", async () => {
    const message = makeLeakMessage();
    const result = await channel().deliver(message);

    expect(result).toEqual({ duplicate: false });
    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0];
    expect(request?.check).toEqual({ ok: true });
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["tourniquet-request-id"]).toBe(message.id);
    expect(request?.headers["tourniquet-timestamp"]).toBe("1767225600");
    expect(request?.headers["tourniquet-signature"]).toBe(
      signIssuerRequest(SECRET, 1767225600, message.id, request?.body ?? ""),
    );
    expect(request?.payload).toEqual({
      type: "leak.notification",
      id: message.id,
      leak_id: "lk_6897aab7941b3bbd1d62e960",
      recipient: { role: "owner", email: "owner@example.test", name: "Demo Owner" },
      subject: message.subject,
      facts: {
        leak_id: "lk_6897aab7941b3bbd1d62e960",
        token_type: "tourniquet_sandbox_token",
        preview: "tqs_…9f2a",
        key_id: "key_9c65e584417efae7f813f62d",
        status: "revoked",
        mode: "revoke",
        first_seen: "2026-01-01T00:00:00.000Z",
        revoked_at: "2026-01-01T00:00:00.216Z",
        time_to_revoke_ms: 216,
        sightings: [
          {
            url: "https://github.com/example/demo/blob/main/.env",
            source: "github",
            first_seen: "2026-01-01T00:00:00.000Z",
          },
        ],
        actions: message.facts.actions,
        replacement: null,
        details: [],
        next_steps: message.facts.nextSteps,
        admin_url: "https://tourniquet.example.test/admin/leaks/lk_6897aab7941b3bbd1d62e960",
      },
    });
  });

  it("reproduces the worked example in docs/notification-webhooks.md", () => {
    const leakId = "lk_6897aab7941b3bbd1d62e960";
    const message = makeLeakMessage({
      id: `${leakId}.ops-webhook.b2096dbc5111b630`,
      facts: {
        actions: [
          {
            at: "2026-01-01T00:00:00.041Z",
            step: "verify",
            outcome: "ok",
            detail: "issuer reports the key live",
          },
          {
            at: "2026-01-01T00:00:00.180Z",
            step: "revoke",
            outcome: "ok",
            detail: "issuer sandbox revoked key key_9c65e584417efae7f813f62d",
          },
          {
            at: "2026-01-01T00:00:00.216Z",
            step: "re-verify",
            outcome: "ok",
            detail: "token re-verified after revocation: inactive",
          },
        ],
        nextSteps: [
          "Create a new key and update every application and secret store that used the old one.",
          "Remove the key from the places listed above and from your repository history; check forks and copies.",
        ],
        adminUrl: `https://tourniquet.example.com/admin/leaks/${leakId}`,
      },
    });
    const body = JSON.stringify(webhookPayload(message));
    const doc = readFileSync(new URL("../../../docs/notification-webhooks.md", import.meta.url), "utf8");
    expect(body).toBe(/^body='(.*)'$/m.exec(doc)?.[1]);
    expect(signIssuerRequest("example-webhook-secret", 1767225600, message.id, body)).toBe(
      "v1=df4e812ae79102064f75a5c1b14b6b64efb4a6f561140c7b6130237312378a96",
    );
  });

  it("sends absent values as null and a replacement as snake_case", () => {
    const payload = webhookPayload(
      makeLeakMessage({
        recipient: { role: "security_contact" },
        facts: {
          keyId: undefined,
          revokedAt: undefined,
          timeToRevokeMs: undefined,
          adminUrl: undefined,
          replacement: { keyId: "key_new", where: "your dashboard" },
        },
      }),
    );
    expect(payload.recipient).toEqual({ role: "security_contact", email: null, name: null });
    expect(payload.facts).toMatchObject({
      key_id: null,
      revoked_at: null,
      time_to_revoke_ms: null,
      admin_url: null,
      replacement: { key_id: "key_new", where: "your dashboard" },
    });
  });

  it("uses the message id as request id on every retry, so receivers can drop repeats", async () => {
    const message = makeLeakMessage();
    receiver.answer(503).answer(409, JSON.stringify({ error: "duplicate" }));
    await failure(channel().deliver(message));
    const second = await channel().deliver(message);

    expect(second).toEqual({ duplicate: true });
    expect(receiver.requests.map((r) => r.headers["tourniquet-request-id"])).toEqual([
      message.id,
      message.id,
    ]);
    expect(receiver.requests.every((r) => r.check.ok)).toBe(true);
  });

  it("is refused with a permanent error when the secrets differ", async () => {
    const error = await failure(channel({ secret: "another-secret" }).deliver(makeLeakMessage()));
    expect(receiver.requests[0]?.check).toEqual({ ok: false, reason: "mismatch" });
    expect(error.message).toBe('webhook channel "ops-webhook": HTTP 401 bad_signature');
    expect(error.transient).toBe(false);
  });

  it("refuses a message id that receivers could not accept as a request id, without sending", async () => {
    const error = await failure(channel().deliver(makeLeakMessage({ id: "has spaces/and slashes" })));
    expect(error.transient).toBe(false);
    expect(receiver.requests).toHaveLength(0);
  });

  describe("maps the receiver's answers", () => {
    it.each([200, 201, 202, 204])("%i is delivered", async (status) => {
      receiver.answer(status, status === 204 ? "" : "{}");
      expect(await channel().deliver(makeLeakMessage())).toEqual({ duplicate: false });
    });

    it.each([408, 425, 500, 502, 503, 504])("%i is transient", async (status) => {
      receiver.answer(status, "");
      const error = await failure(channel().deliver(makeLeakMessage()));
      expect(error.message).toBe(`webhook channel "ops-webhook": HTTP ${status}`);
      expect(error.transient).toBe(true);
    });

    it("429 is transient and honours Retry-After in seconds", async () => {
      receiver.answer(429, JSON.stringify({ error: "rate_limited" }), { "retry-after": "7" });
      const error = await failure(channel().deliver(makeLeakMessage()));
      expect(error.message).toBe('webhook channel "ops-webhook": HTTP 429 rate_limited');
      expect(error.transient).toBe(true);
      expect(error.retryAfterSeconds).toBe(7);
    });

    it("503 honours Retry-After as an HTTP-date", async () => {
      receiver.answer(503, "", { "retry-after": "Thu, 01 Jan 2026 00:02:00 GMT" });
      const error = await failure(channel().deliver(makeLeakMessage()));
      expect(error.retryAfterSeconds).toBe(120);
    });

    it.each([400, 403, 404, 410, 413, 422])("%i is permanent", async (status) => {
      receiver.answer(status, JSON.stringify({ error: "nope" }), { "retry-after": "5" });
      const error = await failure(channel().deliver(makeLeakMessage()));
      expect(error.message).toBe(`webhook channel "ops-webhook": HTTP ${status} nope`);
      expect(error.transient).toBe(false);
      expect(error.retryAfterSeconds).toBeUndefined();
    });

    it.each([301, 307, 308])("%i is permanent and not followed", async (status) => {
      receiver.answer(status, "", { location: `${receiver.url}/moved` });
      const error = await failure(channel().deliver(makeLeakMessage()));
      expect(error.message).toBe(`webhook channel "ops-webhook": HTTP ${status} (redirect not followed)`);
      expect(error.transient).toBe(false);
      expect(receiver.requests).toHaveLength(1);
    });
  });

  it("gives up after timeoutMs with a transient error", async () => {
    receiver.hang();
    const error = await failure(channel({ timeoutMs: 200 }).deliver(makeLeakMessage()));
    expect(error.message).toBe('webhook channel "ops-webhook": no answer within 200 ms');
    expect(error.transient).toBe(true);
  });

  it("stops when the caller aborts", async () => {
    receiver.hang();
    const error = await failure(channel().deliver(makeLeakMessage(), { signal: AbortSignal.timeout(100) }));
    expect(error.message).toBe('webhook channel "ops-webhook": aborted by caller');
    expect(error.transient).toBe(true);
  });

  // Issue 9, point 13: the receiver's answer is read with a cap; an endless 200 is still a delivery,
  // not a timeout that would send the message again.
  it("counts a 200 with an endless body as delivered, reading no more than the cap", async () => {
    const endless = await serve((_req, res) => {
      res.writeHead(200);
      const pump = () => {
        while (!res.destroyed && res.write(Buffer.alloc(64 * 1024, "x"))) {}
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    });
    try {
      await expect(
        channel({ url: endless.url, timeoutMs: 3_000 }).deliver(makeLeakMessage()),
      ).resolves.toEqual({
        duplicate: false,
      });
    } finally {
      await endless.close();
    }
  });

  it("treats a network failure as transient", async () => {
    const gone = await WebhookReceiver.start(SECRET);
    await gone.close();
    const error = await failure(channel({ url: gone.url }).deliver(makeLeakMessage()));
    expect(error.message).toMatch(/^webhook channel "ops-webhook": network error/);
    expect(error.transient).toBe(true);
  });

  it("checks its configuration", () => {
    expect(() => channel({ url: "http://hooks.example.test/x" })).toThrow(ConfigError);
    expect(() => channel({ secret: "" })).toThrow('webhook channel "ops-webhook": secret is empty');
    expect(channel({ url: "https://hooks.example.test/x" }).kind).toBe("webhook");
  });
});
