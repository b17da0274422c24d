import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPartnerReportHandler } from "../../functions/partner-report.js";
import { parseConfig } from "../../lib/config.js";
import { PartnerKeyCache } from "../../lib/github/partner-key-cache.js";
import { partnerKeySetLoader } from "../../lib/github/partner-key-set.js";
import type { IntakeDeps } from "../../lib/intake/receive-partner-report.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { InProcessQueue } from "../../lib/queue/in-process-queue.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import { SandboxKeyService } from "../../local/sandbox/sandbox-key-service.js";
import { createSandboxHandler } from "../../local/sandbox/sandbox-routes.js";
import { createTestStore, type TestStore } from "../helpers/dynamo.js";
import { FakeGitHubKeysServer } from "../helpers/fake-github-keys-server.js";
import { apiEvent } from "../helpers/lambda-events.js";
import { type LoopbackServer, serve } from "../helpers/loopback-server.js";
import { createPartnerSigner, readDocsSample, readPublishedKeySet } from "../helpers/partner-keys.js";
import { recordingLog } from "../helpers/recording-log.js";

// The partner-report Lambda handler, invoked with API Gateway v2 events carrying GitHub's documented
// sample request, over the embedded DynamoDB engine, a fake GitHub key endpoint and the sandbox issuer.

let keys: FakeGitHubKeysServer;
let issuer: LoopbackServer;
let store: TestStore;
let queue: InProcessQueue;
let handler: ReturnType<typeof createPartnerReportHandler>;
let handlerDeps: () => Promise<IntakeDeps>;

beforeAll(async () => {
  keys = await FakeGitHubKeysServer.start(readPublishedKeySet().public_keys);
  const secret = randomBytes(16).toString("hex");
  const sandbox = createSandboxHandler({ service: new SandboxKeyService(), secret });
  issuer = await serve((req, res) => void sandbox(req, res, new URL(req.url ?? "/", "http://x").pathname));
  const config = parseConfig(
    {
      issuers: {
        sandbox: {
          kind: "http",
          url: issuer.url,
          secret: { env: "SECRET" },
        },
      },
      token_types: { some_type: { issuer: "sandbox" } },
    },
    { SECRET: secret },
  );
  store = await createTestStore();
  queue = new InProcessQueue();
  const deps: IntakeDeps = {
    config,
    store: store.store,
    parts: store.parts,
    queue,
    sealer: new LocalKeySealer(randomBytes(32)),
    keys: new PartnerKeyCache({ load: partnerKeySetLoader({ url: keys.url }) }),
    issuers: IssuerRegistry.fromConfig(config),
    log: recordingLog().log,
  };
  handlerDeps = async () => deps;
  handler = createPartnerReportHandler(handlerDeps, deps.log);
});

afterAll(async () => {
  queue.close();
  await store.close();
  await keys.close();
  await issuer.close();
});

const event = (body: string, headers: Record<string, string>, base64 = false) =>
  apiEvent("POST /v1/github/secret-scanning", { body, headers, base64 });

describe("partner-report handler", () => {
  it.each([false, true])(
    "verifies GitHub's documented sample and labels it (base64 body: %s)",
    async (base64) => {
      const sample = readDocsSample();
      // API Gateway lowercases header names.
      const headers = Object.fromEntries(
        Object.entries(sample.headers).map(([k, v]) => [k.toLowerCase(), v]),
      );
      const result = await handler(
        event(sample.body, { ...headers, "content-type": "application/json" }, base64),
        {} as never,
      );

      expect(result.statusCode).toBe(200);
      expect(JSON.parse(result.body ?? "")).toEqual([
        { token_hash: sample.expected_token_hash, token_type: "some_type", label: "false_positive" },
      ]);
      const page = await store.store.listLeaks({ fingerprint: sample.expected_token_hash, limit: 5 });
      expect(page.items).toEqual([
        expect.objectContaining({ status: "false_positive", tokenType: "some_type" }),
      ]);
    },
  );

  it("answers a tampered sample with 401 and a JSON error", async () => {
    const sample = readDocsSample();
    const result = await handler(
      event(sample.body.replace("some_token", "some_tokeN"), sample.headers),
      {} as never,
    );
    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body ?? "")).toEqual({
      error: "signature",
      message: expect.stringMatching(/does not verify/),
    });
  });

  describe("body limit", () => {
    /** Lambda's synchronous invocation limit: the whole event JSON. */
    const LAMBDA_EVENT_LIMIT = 6 * 1024 * 1024;
    const sample = readDocsSample();
    const headers = {
      ...Object.fromEntries(Object.entries(sample.headers).map(([k, v]) => [k.toLowerCase(), v])),
      "content-type": "application/json",
    };
    /** A partner report of exactly `bytes` bytes. */
    const reportOf = (bytes: number) => {
      const empty = JSON.stringify([{ token: "tqs_x", type: "some_type", url: "", source: "content" }]);
      return JSON.stringify([
        { token: "tqs_x", type: "some_type", url: "x".repeat(bytes - empty.length), source: "content" },
      ]);
    };

    it.each([
      ["the default limit", undefined, 4 * 1024 * 1024],
      ["the largest limit the config allows", 4_669_440, 4_669_440],
    ])(
      "answers a body one byte over %s with a clear 413, in an event Lambda still accepts base64-encoded",
      async (_name, configured, limit) => {
        const config = parseConfig({ ...(configured ? { intake: { max_body_bytes: configured } } : {}) }, {});
        const deps = { ...(await handlerDeps()), config };
        const body = reportOf(limit + 1);
        expect(Buffer.byteLength(body)).toBe(limit + 1);
        const request = event(body, headers, true);
        // The request reaches the handler deployed too: Lambda would not refuse its event.
        expect(Buffer.byteLength(JSON.stringify(request))).toBeLessThan(LAMBDA_EVENT_LIMIT);

        const result = await createPartnerReportHandler(async () => deps, deps.log)(request, {} as never);
        expect(result.statusCode).toBe(413);
        expect(JSON.parse(result.body ?? "")).toEqual({
          error: "payload_too_large",
          message: `body is ${limit + 1} bytes; the limit is ${limit}`,
        });
      },
    );
  });

  it("counts accepted reports and what verification made of their tokens, and flushes on every call", async () => {
    const reported: unknown[] = [];
    let flushes = 0;
    const counted = createPartnerReportHandler(handlerDeps, recordingLog().log, {
      reported: (feedback) => reported.push(feedback),
      flush: () => flushes++,
    });
    const sample = readDocsSample();

    const ok = await counted(event(sample.body, sample.headers), {} as never);
    const tampered = await counted(
      event(sample.body.replace("some_token", "some_tokeN"), sample.headers),
      {} as never,
    );

    expect([ok.statusCode, tampered.statusCode]).toEqual([200, 401]);
    expect(reported).toEqual([[expect.objectContaining({ label: "false_positive" })]]);
    expect(flushes).toBe(2);
  });

  // Issue 9, point 3: during GitHub's key rotation, one request with a random key id must not get the
  // reports signed with the just-published key refused (GitHub drops a 401). Issue 15: nor answered 503
  // (a random id is no outage): the report waits for the next allowed refetch and is accepted.
  it("accepts a report signed with a just-published key after a random key id, waiting for the next fetch", async () => {
    let clock = 1_000_000;
    const waits: number[] = [];
    const rotationKeys = await FakeGitHubKeysServer.start(readPublishedKeySet().public_keys);
    try {
      const base = await handlerDeps();
      const deps: IntakeDeps = {
        ...base,
        keys: new PartnerKeyCache({
          load: partnerKeySetLoader({ url: rotationKeys.url }),
          now: () => clock,
          sleep: async (ms) => {
            waits.push(ms);
            clock += ms;
          },
        }),
      };
      const rotating = createPartnerReportHandler(async () => deps, deps.log);
      const sample = readDocsSample();
      await rotating(event(sample.body, sample.headers), {} as never);

      const random = { ...sample.headers, "Github-Public-Key-Identifier": randomBytes(32).toString("hex") };
      expect((await rotating(event(sample.body, random), {} as never)).statusCode).toBe(401);

      const rotated = createPartnerSigner();
      rotationKeys.publish(rotated.published);
      clock += 1_000;
      const signed = {
        "Github-Public-Key-Identifier": rotated.keyId,
        "Github-Public-Key-Signature": rotated.sign(sample.body),
      };
      expect((await rotating(event(sample.body, signed), {} as never)).statusCode).toBe(200);
      expect(waits).toEqual([4_000]);
      expect(rotationKeys.requestCount).toBe(3);
    } finally {
      await rotationKeys.close();
    }
  });
});
