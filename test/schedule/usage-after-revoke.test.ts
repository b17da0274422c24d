import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Issuer, UsageReport } from "../../lib/issuers/issuer.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { runSweep } from "../../lib/schedule/run-sweep.js";
import { recordUsageAfterRevoke, USAGE_AFTER_REVOKE } from "../../lib/schedule/usage-after-revoke.js";
import { createTestStore, makeLeak, type TestStore } from "../helpers/dynamo.js";
import { recordingLog } from "../helpers/recording-log.js";

// An hour after revocation the sweep records, once, how the key's account was used since.

const NOW = Date.parse("2026-11-25T12:00:00.000Z");
const HOUR = 3_600_000;
const TYPE = "azure_openai_key";

class UsageIssuer implements Issuer {
  readonly name = "azure";
  readonly asked: { keyId: string; since: string }[] = [];
  refreshed = 0;
  async verify() {
    return { status: "unknown" as const };
  }
  async revoke(request: { keyId: string }) {
    return { keyId: request.keyId, alreadyRevoked: true };
  }
  async refresh() {
    this.refreshed++;
  }
  async usageSince(request: { keyId: string; since: string }): Promise<UsageReport> {
    this.asked.push(request);
    return {
      since: request.since,
      until: new Date(NOW).toISOString(),
      figures: { requests: 0, prompt_tokens: 0 },
    };
  }
}

let t: TestStore;
beforeAll(async () => {
  t = await createTestStore();
});
afterAll(() => t.close());

const revokedLeak = (hoursAgo: number) =>
  makeLeak({
    tokenType: TYPE,
    issuer: "azure",
    status: "revoked",
    keyId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a${hoursAgo}#Key1`,
    revokedAt: new Date(NOW - hoursAgo * HOUR).toISOString(),
    firstSeen: new Date(NOW - (hoursAgo + 1) * HOUR).toISOString(),
    // Settled: its owner was told, so the reconcile job, running beside this one, leaves it alone.
    notification: { status: "sent", at: new Date(NOW - hoursAgo * HOUR).toISOString() },
  });

describe("usage after revocation", () => {
  it("records the figures once, an hour or more after revocation, and never for a fresh one", async () => {
    const issuer = new UsageIssuer();
    const issuers = new IssuerRegistry(new Map([["azure", issuer]]), { [TYPE]: { issuer: "azure" } });
    const due = (await t.store.createLeak(revokedLeak(2))).leak;
    const fresh = (await t.store.createLeak(revokedLeak(0.5))).leak;

    const first = await recordUsageAfterRevoke({ store: t.store, issuers, now: () => NOW });
    expect(first).toEqual({ recorded: 1, failed: [] });
    expect(issuer.asked).toEqual([{ keyId: due.keyId, since: due.revokedAt }]);
    const event = (await t.store.getLeak(due.id))?.timeline.find((e) => e.step === USAGE_AFTER_REVOKE);
    expect(event).toMatchObject({
      outcome: "ok",
      detail: expect.stringContaining("requests 0, prompt tokens 0"),
      data: { since: due.revokedAt, requests: 0, prompt_tokens: 0 },
    });
    expect((await t.store.getLeak(fresh.id))?.timeline.some((e) => e.step === USAGE_AFTER_REVOKE)).toBe(
      false,
    );

    // The next sweep finds it recorded and asks again for nothing.
    expect(await recordUsageAfterRevoke({ store: t.store, issuers, now: () => NOW })).toEqual({
      recorded: 0,
      failed: [],
    });
    expect(issuer.asked).toHaveLength(1);
  });

  it("is one of the sweep's jobs, with the issuers' cache refresh", async () => {
    const issuer = new UsageIssuer();
    const issuers = new IssuerRegistry(new Map([["azure", issuer]]), { [TYPE]: { issuer: "azure" } });
    await t.store.createLeak(revokedLeak(3));
    const result = await runSweep({
      store: t.store,
      queue: { send: async () => undefined },
      log: recordingLog().log,
      now: () => NOW,
      issuers,
    });
    expect(issuer.refreshed).toBe(1);
    expect(result.issuers).toEqual({ refreshed: 1, usageRecorded: 1, usageFailed: 0 });
  });
});
