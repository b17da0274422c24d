import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signIssuerRequest } from "../../../lib/issuers/http-issuer-signature.js";
import { SandboxKeyService } from "../../../local/sandbox/sandbox-key-service.js";
import { createSandboxHandler, SANDBOX_BODY_LIMIT_BYTES } from "../../../local/sandbox/sandbox-routes.js";
import { type LoopbackServer, serve } from "../../helpers/loopback-server.js";

// The sandbox's HTTP surface beyond what HttpIssuer exercises: local conveniences and request hygiene.

const SECRET = "routes-secret";
const service = new SandboxKeyService();
let server: LoopbackServer;
let base: string;

beforeAll(async () => {
  const handler = createSandboxHandler({ service, secret: SECRET });
  server = await serve((req, res) => void handler(req, res, (req.url ?? "/").replace(/^\/sandbox/, "")));
  base = `${server.url}/sandbox`;
});
afterAll(() => server.close());

function signed(body: string, headers: Record<string, string> = {}): RequestInit {
  const ts = Math.floor(Date.now() / 1000);
  const requestId = headers["tourniquet-request-id"] ?? randomUUID();
  return {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "tourniquet-timestamp": String(ts),
      "tourniquet-signature": signIssuerRequest(SECRET, ts, requestId, body),
      "tourniquet-request-id": requestId,
      ...headers,
    },
  };
}

describe("sandbox routes", () => {
  it("mints a key with POST /keys and shows it with GET /keys/{id}", async () => {
    const created = await fetch(`${base}/keys`, {
      method: "POST",
      body: JSON.stringify({ owner: { email: "ada@example.test", name: "Ada" } }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    const { token, key_id, status } = (await created.json()) as Record<string, string>;
    expect(status).toBe("active");
    expect(token).toMatch(/^tqs_/);

    const shown = await fetch(`${base}/keys/${key_id}`);
    const body = await shown.text();
    expect(JSON.parse(body)).toMatchObject({
      key_id,
      status: "active",
      owner: { email: "ada@example.test", name: "Ada" },
      revocations: 0,
      revoked_at: null,
    });
    expect(body).not.toContain(token);
  });

  it("mints for the default owner with an empty body, and rejects bad JSON", async () => {
    const created = await fetch(`${base}/keys`, { method: "POST" });
    expect(created.status).toBe(201);
    const bad = await fetch(`${base}/keys`, { method: "POST", body: "{nope" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "bad_request" });
  });

  it("answers 404 JSON for unknown keys and routes without echoing the path", async () => {
    const missing = await fetch(`${base}/keys/key_missing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: "unknown_key" });
    const token = service.issue().token;
    const route = await fetch(`${base}/lookup/${token}`);
    expect(route.status).toBe(404);
    expect(await route.text()).not.toContain(token);
  });

  it("requires JSON, a request id and a body under the limit", async () => {
    const body = JSON.stringify({ token: "tqs_x", type: "t" });
    const notJson = await fetch(`${base}/verify`, signed(body, { "content-type": "text/plain" }));
    expect(notJson.status).toBe(415);
    const noId = await fetch(`${base}/verify`, signed(body, { "tourniquet-request-id": "" }));
    expect(noId.status).toBe(401);
    const big = JSON.stringify({ token: "x".repeat(SANDBOX_BODY_LIMIT_BYTES), type: "t" });
    const tooLarge = await fetch(`${base}/verify`, signed(big));
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: "payload_too_large" });
  });

  it("checks the signature before the body's shape, and names fields but not values", async () => {
    const unsigned = await fetch(`${base}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: "bad_signature", message: "signature missing" });

    const token = service.issue().token;
    const wrongShape = await fetch(`${base}/verify`, signed(JSON.stringify({ token, type: 42 })));
    expect(wrongShape.status).toBe(400);
    const text = await wrongShape.text();
    expect(JSON.parse(text)).toEqual({ error: "bad_request", message: "invalid or missing fields: type" });
    expect(text).not.toContain(token);
  });
});
