import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AwsError } from "../../lib/errors.js";
import { LATE_PARTS } from "../../lib/intake/defer-report-parts.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { groupReportedTokens } from "../../lib/intake/record-reported-tokens.js";
import { reportPartId, sealPartTokens } from "../../lib/intake/report-part.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import { isReportPart, type QueueMessage } from "../../lib/queue/remediation-queue.js";
import { leakIdFor } from "../../lib/store/leak.js";
import { generateSandboxToken } from "../../local/sandbox/sandbox-token.js";
import { readJson, SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// A mass leak in one report, through the local stack: the intake records its first tokens itself and
// keeps the rest in sealed parts that the worker records; every token ends as one leak, every live key
// is revoked once and its owner told once, whatever fails on the way.

const INLINE = 4;
let t: TestStack;

afterEach(async () => {
  vi.restoreAllMocks();
  await t?.close();
});

async function massStack() {
  t = await startTestStack({
    queueConcurrency: 4,
    configOverrides: { intake: { inline_verify_budget_ms: 3000, concurrency: 8, inline_max_tokens: INLINE } },
  });
  return t;
}

/** `live` issued sandbox keys and `dead` tokens no issuer knows, as one report's matches. */
async function mass(live: number, dead: number) {
  const keys = await Promise.all(
    Array.from({ length: live }, (_, i) => t.issueKey({ email: `owner${i}@example.test` })),
  );
  const deadTokens = Array.from({ length: dead }, () => generateSandboxToken());
  const tokens = [...keys.map((k) => k.token), ...deadTokens];
  const matches = tokens.map((token, i) => ({
    token,
    type: SANDBOX_TYPE,
    url: `https://github.com/acme/leaky/blob/main/keys-${i}.env`,
    source: "content",
  }));
  return { keys, tokens, matches, ids: tokens.map((token) => leakIdFor(fingerprintToken(token))) };
}

/** Waits until every leak is settled (revoked or false_positive) and the queue is empty. */
async function settled(ids: readonly string[], ms = 60_000) {
  const until = Date.now() + ms;
  for (;;) {
    await t.stack.queue.drain();
    const leaks = await t.stack.store.getLeaks(ids);
    const done = [...leaks.values()].filter((l) => l.status === "revoked" || l.status === "false_positive");
    if (done.length === ids.length) return leaks;
    if (Date.now() > until) {
      const statuses = [...leaks.values()].map((l) => l.status);
      throw new Error(`${done.length} of ${ids.length} settled: ${JSON.stringify(statuses)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const outboxFiles = () => readdirSync(join(t.stack.dataDir, "outbox"));

/** The outbox's messages for a leak, by channel (files are named `<leak id>.<channel>.…`). */
function messagesByChannel(leakId: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const file of outboxFiles().filter((f) => f.startsWith(`${leakId}.`))) {
    const channel = file.slice(leakId.length + 1).split(".")[0] ?? "";
    counts.set(channel, (counts.get(channel) ?? 0) + 1);
  }
  return counts;
}

/** One revocation per live key and one message per owner and channel: nothing lost, nothing doubled. */
async function expectEachRevokedAndToldOnce(keys: { key_id: string }[], ids: readonly string[]) {
  for (const key of keys)
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });
  for (const id of ids.slice(0, keys.length)) {
    const counts = messagesByChannel(id);
    expect(counts.size).toBeGreaterThan(0);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
  }
  for (const id of ids.slice(keys.length)) expect(messagesByChannel(id).size).toBe(0);
}

const partMessages = () => t.sentMessages.filter((m) => isReportPart(m as QueueMessage));

describe("a report with more tokens than the intake records itself", () => {
  it("labels the first ones, records the rest from parts, and remediates every token once", async () => {
    await massStack();
    const { keys, tokens, matches, ids } = await mass(9, 5);
    const response = await t.report(matches);
    expect(response.status).toBe(200);
    const feedback = (await readJson(response)) as { token_hash: string }[];
    // Only the intake's own share can be labelled before the answer.
    expect(feedback.length).toBeLessThanOrEqual(INLINE);
    expect(feedback.map((f) => f.token_hash)).toEqual(
      tokens.slice(0, feedback.length).map((token) => fingerprintToken(token)),
    );
    expect(partMessages().length).toBe(Math.ceil((tokens.length - INLINE) / 1_000));

    const leaks = await settled(ids);
    await expectEachRevokedAndToldOnce(keys, ids);
    // Every leak starts its clock at the report, wherever it was recorded.
    const firstSeen = new Set([...leaks.values()].map((l) => l.firstSeen));
    expect(firstSeen.size).toBe(1);
    expect(await t.tableItems("PART#")).toEqual([]);
    const written = await t.everythingWritten(ids);
    for (const token of tokens) expect(written).not.toContain(token);
  });

  it("answers 503 when the parts cannot be written, and GitHub's retry records everything once", async () => {
    await massStack();
    const { keys, matches, ids } = await mass(7, 2);
    const down = new AwsError("DynamoDB: service unavailable", "ServiceUnavailable", 503, {
      transient: true,
    });
    const put = vi.spyOn(t.stack.parts, "putParts").mockRejectedValueOnce(down);
    const body = JSON.stringify(matches);

    const refused = await t.report(undefined, { rawBody: body });
    expect(refused.status).toBe(503);
    expect(await readJson(refused)).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    expect(partMessages()).toHaveLength(0); // nothing queued for parts that were not kept

    const retried = await t.report(undefined, { rawBody: body });
    expect(retried.status).toBe(200);
    expect(put).toHaveBeenCalledTimes(2);
    await settled(ids);
    await expectEachRevokedAndToldOnce(keys, ids);
  });

  it("answers 503 when the parts cannot be queued; the retry writes the same parts and all completes once", async () => {
    await massStack();
    const { keys, matches, ids } = await mass(7, 0);
    const send = t.stack.queue.send;
    const spy = vi.mocked(send);
    const original = spy.getMockImplementation();
    let failed = false;
    spy.mockImplementation(async (messages, options) => {
      if (!failed && messages.some((m) => isReportPart(m))) {
        failed = true;
        throw new AwsError("SQS: service unavailable", "ServiceUnavailable", 503, { transient: true });
      }
      return original?.(messages, options);
    });
    const body = JSON.stringify(matches);
    expect((await t.report(undefined, { rawBody: body })).status).toBe(503);
    const kept = await t.tableItems("PART#");
    expect(kept.length).toBe(1); // written, not yet announced: the retry (or the sweep) sends it

    expect((await t.report(undefined, { rawBody: body })).status).toBe(200);
    await settled(ids);
    await expectEachRevokedAndToldOnce(keys, ids);
    expect(await t.tableItems("PART#")).toEqual([]);
  });

  it("a part whose recording fails is delivered again and completes, with nothing doubled", async () => {
    await massStack();
    const { keys, matches, ids } = await mass(8, 2);
    const remove = vi
      .spyOn(t.stack.parts, "deletePart")
      .mockRejectedValueOnce(
        new AwsError("DynamoDB: throttled", "ThrottlingException", 400, { transient: true }),
      );
    expect((await t.report(matches)).status).toBe(200);
    await settled(ids);
    expect(remove.mock.calls.length).toBeGreaterThanOrEqual(2);
    await expectEachRevokedAndToldOnce(keys, ids);
    expect(await t.tableItems("PART#")).toEqual([]);
  });

  it("the same part delivered twice at once is recorded by one delivery; nothing is doubled", async () => {
    await massStack();
    const { keys, matches, ids } = await mass(8, 0);
    expect((await t.report(matches)).status).toBe(200);
    const [message] = partMessages();
    await t.stack.queue.send([{ ...(message as QueueMessage) }, { ...(message as QueueMessage) }]);
    await settled(ids);
    await expectEachRevokedAndToldOnce(keys, ids);
  });

  it("a part whose message was lost is sent again by the sweep", async () => {
    await massStack();
    const { keys, tokens, matches, ids } = await mass(7, 0);
    const spy = vi.mocked(t.stack.queue.send);
    const original = spy.getMockImplementation();
    spy.mockImplementation(async (messages, options) => {
      const kept = messages.filter((m) => !isReportPart(m)); // the part's message is lost on the way
      return kept.length > 0
        ? original?.(messages.length === kept.length ? messages : kept, options)
        : undefined;
    });
    expect((await t.report(matches)).status).toBe(200);
    await t.stack.queue.drain();
    const recorded = await t.stack.store.getLeaks(ids);
    expect(recorded.size).toBe(INLINE);
    // The part waits in the table, its tokens sealed: none is readable anywhere.
    expect(await t.tableItems("PART#")).toHaveLength(1);
    const written = await t.everythingWritten(ids);
    for (const token of tokens) expect(written).not.toContain(token);

    spy.mockImplementation(async (messages, options) => original?.(messages, options));
    const swept = await t.stack.sweep({ staleAfterMs: 0 });
    expect(swept.reportParts).toMatchObject({ requeued: 1, failed: 0 });
    await settled(ids);
    await expectEachRevokedAndToldOnce(keys, ids);
  });

  it("when the store is too slow for the intake's share, what did not start in time goes to parts", async () => {
    t = await startTestStack({
      queueConcurrency: 4,
      configOverrides: {
        intake: {
          inline_verify_budget_ms: 0,
          concurrency: 1,
          inline_max_tokens: 100,
          record_budget_ms: 1_000,
        },
      },
    });
    const { keys, tokens, matches, ids } = await mass(12, 4);
    // Each leak the intake writes takes a quarter second: a handful fit the one-second budget.
    const create = t.stack.store.createLeak.bind(t.stack.store);
    let answered = false;
    vi.spyOn(t.stack.store, "createLeak").mockImplementation(async (leak) => {
      if (!answered) await new Promise((resolve) => setTimeout(resolve, 250));
      return create(leak);
    });
    const response = await t.report(matches);
    answered = true;
    expect(response.status).toBe(200);
    // No label: the intake had no time to verify (inline_verify_budget_ms 0).
    expect(await readJson(response)).toEqual([]);
    const late = partMessages().map((m) => (m as unknown as { partId: string }).partId);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((id) => Number(id.split("_").at(-1)) >= LATE_PARTS)).toBe(true);
    const ranOut = t.logLines.find((line) => line.includes("report recording ran out of time")) ?? "";
    const lateCount = Number(/"late":(\d+)/.exec(ranOut)?.[1]);
    // Some were recorded by the intake in time, the rest were not started by it.
    expect(lateCount).toBeGreaterThan(0);
    expect(lateCount).toBeLessThan(tokens.length);

    await settled(ids);
    await expectEachRevokedAndToldOnce(keys, ids);
    expect(await t.tableItems("PART#")).toEqual([]);
  });

  it("a part that cannot be opened is kept for inspection, logged, and no longer owed", async () => {
    await massStack();
    const id = reportPartId("ab".repeat(32), 0);
    const tokens = groupReportedTokens([
      { token: generateSandboxToken(), type: SANDBOX_TYPE, url: "https://example.test/x", source: "content" },
    ]);
    // Sealed with a key this stack does not hold (a lost or replaced key).
    const sealed = await sealPartTokens(new LocalKeySealer(Buffer.alloc(32, 7)), id, tokens, new Map());
    await t.stack.parts.putParts([
      {
        id,
        index: 0,
        of: 1,
        tokens: 1,
        sealed,
        receivedAtMs: Date.now(),
        reporter: "GitHub secret scanning",
        source: "partner_report",
        lastActivity: new Date().toISOString(),
        attempts: 0,
        version: 1,
      },
    ]);
    await t.stack.queue.send([{ partId: id }]);
    await t.stack.queue.drain();
    expect(await t.stack.parts.getPart(id)).toMatchObject({
      failure: expect.stringMatching(/seal|open|auth/i),
    });
    const owed = await t.stack.parts.listOwedParts({
      until: new Date(Date.now() + 60_000).toISOString(),
      limit: 10,
    });
    expect(owed.items.map((p) => p.id)).not.toContain(id);
    expect(t.logLines.some((line) => line.includes("report part cannot be opened"))).toBe(true);
  });
});
