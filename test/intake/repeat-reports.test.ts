import { beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.js";
import { AwsError } from "../../lib/errors.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import {
  groupReportedTokens,
  type RecordDeps,
  recordReportedTokens,
} from "../../lib/intake/record-reported-tokens.js";
import type { Issuer, Verification } from "../../lib/issuers/issuer.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { silentLog } from "../../lib/log.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import type { RemediationMessage } from "../../lib/queue/remediation-queue.js";
import { leakIdFor } from "../../lib/store/leak.js";
import type { LeakStore } from "../../lib/store/leak-store.js";
import { createTestStore, sharedEngine, type TestStore } from "../helpers/dynamo.js";
import { rejection } from "../helpers/rejection.js";

// Reports of tokens already recorded, and reports where some tokens fail: a settled answer that may
// have changed is verified again (rate-limited per leak), and each leak is queued as it is written.

const TYPE = "acme_api_key";
const HOUR = 3_600_000;
const T0 = Date.parse("2026-03-01T10:00:00Z");

/** An issuer of our Issuer port whose answer the test sets, counting its verify calls. */
function scriptedIssuer(answer: Verification["status"] = "active") {
  const issuer = {
    name: "acme",
    answer,
    verifies: 0,
    async verify(): Promise<Verification> {
      issuer.verifies++;
      return issuer.answer === "active" ? { status: "active", keyId: "key-1" } : { status: issuer.answer };
    },
    async revoke() {
      return { keyId: "key-1", alreadyRevoked: false };
    },
  };
  return issuer satisfies Issuer;
}

const routed = (issuer: Issuer) =>
  new IssuerRegistry(new Map([["acme", issuer]]), { [TYPE]: { issuer: "acme" } });
const unrouted = () => new IssuerRegistry(new Map(), {});

describe("repeated reports and partial failures (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;
  let sent: RemediationMessage[];

  beforeEach(async () => {
    t = await createTestStore(engine());
    sent = [];
  });

  const deps = (issuers: IssuerRegistry, store: LeakStore = t.store): RecordDeps => ({
    config: parseConfig({}, {}),
    store,
    queue: {
      async send(messages) {
        sent.push(...(messages as RemediationMessage[]));
      },
    },
    sealer: new LocalKeySealer(Buffer.alloc(32, 7)),
    issuers,
    log: silentLog,
  });

  const report = (d: RecordDeps, tokens: string[], at: number) =>
    recordReportedTokens(
      { ...d, now: () => at },
      groupReportedTokens(
        tokens.map((token) => ({ token, type: TYPE, url: "https://x.example/a", source: "commit" })),
      ),
      { receivedAt: at, verifyDeadline: at + 5_000, reporter: "test", source: "partner_report" },
    );

  it("verifies an unroutable token when it is reported again after its type got an issuer", async () => {
    const token = "acme_live_unroutable_0001";
    const [first] = await report(deps(unrouted()), [token], T0);
    expect(first?.leak).toMatchObject({ status: "unroutable", issuer: null });
    expect(first?.leak.sealedToken).toMatch(/^v1\.local\./); // kept for a later verification
    expect(sent).toEqual([]);

    const issuer = scriptedIssuer("active");
    const [again] = await report(deps(routed(issuer)), [token], T0 + 60_000);

    expect(issuer.verifies).toBe(1);
    expect(again?.leak).toMatchObject({ status: "active", issuer: "acme", keyId: "key-1" });
    expect(again?.leak.timeline.map((e) => e.step)).toEqual(["report", "reverify", "verify"]);
    expect(sent.map((m) => m.leakId)).toEqual([leakIdFor(fingerprintToken(token))]);
  });

  it("verifies a false positive again at most once per period, and acts when the issuer now knows it", async () => {
    const token = "acme_live_unknown_0002";
    const issuer = scriptedIssuer("unknown");
    await report(deps(routed(issuer)), [token], T0);
    expect(issuer.verifies).toBe(1);

    issuer.answer = "active";
    const [soon] = await report(deps(routed(issuer)), [token], T0 + 10 * 60_000);
    expect(issuer.verifies).toBe(1); // within the period: no issuer call
    expect(soon?.leak.status).toBe("false_positive");

    const [later] = await report(deps(routed(issuer)), [token], T0 + HOUR + 1);
    expect(issuer.verifies).toBe(2);
    expect(later?.leak).toMatchObject({ status: "active", keyId: "key-1" });
    expect(sent.map((m) => m.leakId)).toEqual([later?.leak.id]);
  });

  it("costs no issuer call for a repeat of a token already verified live", async () => {
    const issuer = scriptedIssuer("active");
    await report(deps(routed(issuer)), ["acme_live_repeat_0003"], T0);
    await report(deps(routed(issuer)), ["acme_live_repeat_0003"], T0 + 1_000);
    await report(deps(routed(issuer)), ["acme_live_repeat_0003"], T0 + 2 * HOUR);
    expect(issuer.verifies).toBe(1);
  });

  it("queues every token that was written even when another token of the report fails, then fails the call", async () => {
    const issuer = scriptedIssuer("active");
    const bad = "acme_live_store_fails_0004";
    const store: LeakStore = Object.create(t.store);
    store.createLeak = async (leak) => {
      if (leak.fingerprint === fingerprintToken(bad)) {
        throw new AwsError(
          "dynamodb:PutItem failed: ProvisionedThroughputExceededException",
          "ProvisionedThroughputExceededException",
          400,
          { transient: true },
        );
      }
      return t.store.createLeak(leak);
    };
    const good = Array.from({ length: 12 }, (_, i) => `acme_live_good_${String(i).padStart(4, "0")}`);

    const error = await rejection(report(deps(routed(issuer), store), [bad, ...good], T0), AwsError);

    expect(error.message).toContain("ProvisionedThroughputExceeded");
    const written = good.map((token) => leakIdFor(fingerprintToken(token)));
    expect(sent.map((m) => m.leakId).sort()).toEqual([...written].sort());
    for (const id of written) expect(await t.store.getLeak(id)).toBeDefined();
  });

  it("queues a leak as soon as it is written, not after the rest of the report", async () => {
    const slowToken = "acme_live_slow_0005";
    const fastToken = "acme_live_fast_0006";
    let queuedBeforeSlowAnswered = false;
    const issuer: Issuer = {
      name: "acme",
      async verify(request) {
        if (request.token === slowToken) {
          for (let i = 0; i < 100 && sent.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
          queuedBeforeSlowAnswered = sent.some((m) => m.leakId === leakIdFor(fingerprintToken(fastToken)));
        }
        return { status: "active", keyId: request.token };
      },
      async revoke() {
        return { keyId: "k", alreadyRevoked: false };
      },
    };

    await report(deps(routed(issuer)), [slowToken, fastToken], T0);

    expect(queuedBeforeSlowAnswered).toBe(true);
    expect(sent).toHaveLength(2);
  });
});
