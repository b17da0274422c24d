import { createHmac, randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, type TestStack } from "../helpers/test-stack.js";

// Arbitrary bytes and headers into the two public routes, through the real local server: whatever
// arrives, the answer is a 2xx or a 4xx (never a 5xx, never a hang), and a refused request stores
// nothing. Signed bodies get past the signature check, so the parsers behind it are fuzzed too.

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(() => t.close());

const RUNS = 150;
const printable = fc.stringMatching(/^[\x20-\x7e]{0,80}$/);
const bytes = fc.uint8Array({ maxLength: 2_048 }).map((a) => Buffer.from(a));
/** Text that may be JSON-ish: brackets, quotes and braces come often, so the parser is exercised. */
const jsonish = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.string({ unit: fc.constantFrom(...'[]{}",:0123456789.-eEtrufalsn \\u'), maxLength: 300 }),
  fc
    .array(
      fc.record(
        { token: fc.string(), type: fc.string(), url: fc.string(), source: fc.string() },
        { requiredKeys: [] },
      ),
      { maxLength: 5 },
    )
    .map((matches) => JSON.stringify(matches)),
);
const optionalHeader = (value: fc.Arbitrary<string>) => fc.option(value, { nil: undefined });

/** Every leak and sighting item (not the partner key set, which the sweep saves on its own schedule). */
const itemCount = async () => (await t.tableItems("LEAK#")).length;

/** Posts, checks the answer class, and that a refusal wrote nothing. */
async function post(path: string, body: Buffer | string, headers: Record<string, string | undefined>) {
  const before = await itemCount();
  const response = await fetch(`${t.stack.url}${path}`, {
    method: "POST",
    headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  expect(response.status, text).toBeLessThan(500);
  if (response.status >= 400) {
    expect(JSON.parse(text)).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    expect(await itemCount()).toBe(before);
  }
  return response.status;
}

describe("fuzz: POST /v1/github/secret-scanning", () => {
  it("answers arbitrary bytes and headers with a 4xx and stores nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes,
        optionalHeader(printable),
        optionalHeader(printable),
        optionalHeader(printable),
        async (body, keyId, signature, contentType) => {
          const status = await post("/v1/github/secret-scanning", body, {
            "github-public-key-identifier": keyId,
            "github-public-key-signature": signature,
            "content-type": contentType,
          });
          expect(status).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("answers signed arbitrary bodies with 200 or a 4xx, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(jsonish, bytes), optionalHeader(printable), async (body, contentType) => {
        await post("/v1/github/secret-scanning", body, {
          ...t.signedHeaders(typeof body === "string" ? Buffer.from(body) : body),
          "content-type": contentType,
        });
      }),
      { numRuns: RUNS },
    );
  });
});

describe("fuzz: POST /v1/github/webhooks", () => {
  const sign = (body: Buffer | string) =>
    `sha256=${createHmac("sha256", t.stack.githubWebhookSecret).update(body).digest("hex")}`;
  const event = fc.oneof(fc.constantFrom("secret_scanning_alert", "ping", "installation", "push"), printable);

  it("answers arbitrary bytes and headers with a 4xx and stores nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes,
        event,
        optionalHeader(printable),
        optionalHeader(printable),
        async (body, name, sig, id) => {
          const status = await post("/v1/github/webhooks", body, {
            "content-type": "application/json",
            "x-github-event": name,
            "x-github-delivery": id,
            "x-hub-signature-256": sig,
          });
          expect(status).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("answers signed arbitrary deliveries with a 2xx or a 4xx, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(jsonish, bytes), event, async (body, name) => {
        await post("/v1/github/webhooks", body, {
          "content-type": "application/json",
          "x-github-event": name,
          "x-github-delivery": randomUUID(),
          "x-hub-signature-256": sign(body),
        });
      }),
      { numRuns: RUNS },
    );
  });
});
