import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { type Leak, leakIdFor } from "../../lib/store/leak.js";
import type { LocalStack } from "../../local/local-stack.js";
import type { IssuedKey, LoadPlan, SentReport } from "./load-plan.js";

// What must hold after the load: every answer expected, every distinct token one leak, every live key
// revoked exactly once, every owner told once per channel, nothing dead-lettered. Details name leak and
// key ids, never tokens.

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface CheckInput {
  stack: LocalStack;
  plan: LoadPlan;
  livePool: readonly IssuedKey[];
  canaries: readonly IssuedKey[];
  /** Status code → count as autocannon saw them (every answer, whatever its report). */
  statusCodes: Record<string, number>;
  connectionErrors: number;
  timeouts: number;
  /** The channels a sandbox leak's owner is told on (the config's token type). */
  ownerChannels: readonly string[];
}

const idOf = (token: string) => leakIdFor(fingerprintToken(token));
const sample = (items: readonly string[]) =>
  items.length === 0 ? "" : `: ${items.slice(0, 5).join(", ")}${items.length > 5 ? ", …" : ""}`;

function check(name: string, failures: readonly string[], okDetail: string, what: string): Check {
  return failures.length === 0
    ? { name, ok: true, detail: okDetail }
    : { name, ok: false, detail: `${failures.length} ${what}${sample(failures)}` };
}

/** Every leak in the store, paged through the time index. */
async function allLeaks(stack: LocalStack): Promise<Leak[]> {
  const leaks: Leak[] = [];
  let cursor: string | undefined;
  do {
    const page = await stack.store.listLeaks({ limit: 1_000, cursor });
    leaks.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return leaks;
}

/** Outbox messages as (leak id, channel, recipient) → count. */
function outboxCounts(dataDir: string): Map<string, { leakId: string; channel: string; count: number }> {
  const dir = join(dataDir, "outbox");
  const counts = new Map<string, { leakId: string; channel: string; count: number }>();
  if (!existsSync(dir)) return counts;
  for (const file of readdirSync(dir)) {
    const message = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
      leak_id: string;
      channel: string;
      to?: string;
    };
    const key = `${message.leak_id} ${message.channel} ${message.to ?? ""}`;
    const entry = counts.get(key) ?? { leakId: message.leak_id, channel: message.channel, count: 0 };
    entry.count += 1;
    counts.set(key, entry);
  }
  return counts;
}

export async function runChecks(input: CheckInput): Promise<{ checks: Check[]; leaks: Map<string, Leak> }> {
  const { stack, plan } = input;
  const checks: Check[] = [];

  // Every report gets no 5xx, a random key id included: it waits for the next allowed key set fetch
  // and is answered 401 (lib/github/partner-key-cache.ts).
  const answered = plan.sent.filter((r) => r.status !== undefined);
  const fiveHundreds = answered.filter((r) => (r.status as number) >= 500);
  const allFiveHundreds = Object.entries(input.statusCodes)
    .filter(([code]) => code.startsWith("5"))
    .reduce((sum, [, count]) => sum + count, 0);
  checks.push(
    check(
      "no 5xx",
      [
        ...fiveHundreds.map((r) => `${r.kind} → ${r.status}`),
        ...(allFiveHundreds !== fiveHundreds.length
          ? [`autocannon counted ${allFiveHundreds} 5xx, the ledger ${fiveHundreds.length}`]
          : []),
      ],
      "none",
      "5xx",
    ),
  );
  checks.push(
    check(
      "no connection errors or timeouts",
      input.connectionErrors + input.timeouts > 0
        ? [`${input.connectionErrors} errors, ${input.timeouts} timeouts`]
        : [],
      "none",
      "problem",
    ),
  );

  const expected = (r: SentReport) =>
    r.kind === "bad_signature"
      ? r.status === 401 || r.status === 400
      : r.kind === "unknown_key_id"
        ? r.status === 401
        : r.status === 200;
  const wrongAnswers = answered.filter((r) => !expected(r));
  checks.push(
    check(
      "expected answers (200 signed; 400/401 bad signature; 401 unknown key id)",
      wrongAnswers.map((r) => `${r.kind} → ${r.status}`),
      `${answered.length} answered as expected`,
      "unexpected answers",
    ),
  );

  // Tokens whose report was answered 200 must have a leak; any sent token may (its report may have been
  // in flight when the run ended). Leak ids derive from fingerprints, so the store cannot hold a second
  // leak for one token under another id; counting every leak in the store catches strays.
  const mustExist = new Set(answered.filter((r) => r.status === 200).flatMap((r) => r.tokens));
  const accepted = new Set([...plan.liveSent, ...plan.unknownSent]);
  const leaks = await stack.store.getLeaks([...accepted].map(idOf));
  const missing = [...mustExist].filter((token) => !leaks.has(idOf(token))).map(idOf);
  const stored = await allLeaks(stack);
  const acceptedIds = new Set([...accepted].map(idOf));
  const strays = stored.filter((leak) => !acceptedIds.has(leak.id)).map((leak) => leak.id);
  const fingerprints = new Map<string, number>();
  for (const leak of stored)
    fingerprints.set(leak.fingerprint, (fingerprints.get(leak.fingerprint) ?? 0) + 1);
  const doubled = [...fingerprints].filter(([, count]) => count > 1).map(([fp]) => fp.slice(0, 12));
  checks.push(
    check(
      "every distinct token exactly one leak",
      [...missing.map((id) => `missing ${id}`), ...strays.map((id) => `stray ${id}`), ...doubled],
      `${leaks.size} leaks for ${mustExist.size} tokens answered 200 (${accepted.size} sent); ${stored.length} in the store`,
      "problems",
    ),
  );

  const byToken = new Map(input.livePool.map((key) => [key.token, key.keyId]));
  const revocationProblems: string[] = [];
  for (const token of plan.liveSent) {
    const keyId = byToken.get(token) as string;
    const revocations = stack.sandbox.get(keyId)?.revocations ?? 0;
    const leak = leaks.get(idOf(token));
    if (!leak) {
      if (revocations !== 0) revocationProblems.push(`${keyId} revoked ${revocations}× without a leak`);
    } else if (leak.status !== "revoked" || revocations !== 1) {
      revocationProblems.push(`${keyId}: leak ${leak.id} ${leak.status}, revoked ${revocations}×`);
    }
  }
  for (const canary of input.canaries) {
    const revocations = stack.sandbox.get(canary.keyId)?.revocations ?? 0;
    const leak = await stack.store.getLeak(idOf(canary.token));
    if (revocations !== 0 || leak)
      revocationProblems.push(`bad-signature key ${canary.keyId}: revoked ${revocations}×, leak ${leak?.id}`);
  }
  const liveLeaks = [...plan.liveSent].filter((token) => leaks.has(idOf(token)));
  checks.push(
    check(
      "every live token revoked exactly once (none sent only with a bad signature)",
      revocationProblems,
      `${liveLeaks.length} keys revoked once; ${input.canaries.length} bad-signature keys untouched`,
      "problems",
    ),
  );

  const outbox = outboxCounts(stack.dataDir);
  const perLeakChannel = new Map<string, number>();
  const doubledMessages: string[] = [];
  for (const { leakId, channel, count } of outbox.values()) {
    if (count > 1) doubledMessages.push(`${leakId} ${channel} ${count}×`);
    perLeakChannel.set(`${leakId} ${channel}`, (perLeakChannel.get(`${leakId} ${channel}`) ?? 0) + count);
  }
  const untold = liveLeaks.flatMap((token) =>
    input.ownerChannels
      .filter((channel) => perLeakChannel.get(`${idOf(token)} ${channel}`) !== 1)
      .map((channel) => `${idOf(token)} ${channel} ${perLeakChannel.get(`${idOf(token)} ${channel}`) ?? 0}×`),
  );
  checks.push(
    check(
      "every owner told once per channel",
      [...doubledMessages, ...untold],
      `${liveLeaks.length} owners × ${input.ownerChannels.join(" + ")}; ${[...outbox.values()].reduce((s, e) => s + e.count, 0)} messages`,
      "problems",
    ),
  );

  const deadLetters = join(stack.dataDir, "dead-letters.jsonl");
  const dead = existsSync(deadLetters) ? readFileSync(deadLetters, "utf8").split("\n").filter(Boolean) : [];
  checks.push(
    check(
      "nothing dead-lettered",
      dead.map((_, i) => `#${i + 1}`),
      "none",
      "dead letters",
    ),
  );

  return { checks, leaks };
}
