import { copyFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChecks } from "../../bench/load/load-checks.js";
import { type IssuedKey, LoadPlan } from "../../bench/load/load-plan.js";
import { loadDevSigningKey } from "../../local/dev-signing-key.js";
import { onlyKind } from "../helpers/load-mix.js";
import { startTestStack, type TestStack } from "../helpers/test-stack.js";

// The load test's checks against a real stack: they pass on what it did, and fail on a doubled message
// or a leak that should exist and does not.

let t: TestStack;
let livePool: IssuedKey[];
let canaries: IssuedKey[];
let plan: LoadPlan;

beforeAll(async () => {
  t = await startTestStack();
  const issue = () => {
    const { token, keyId } = t.stack.sandbox.issue();
    return { token, keyId };
  };
  livePool = [issue(), issue()];
  canaries = [issue()];
  plan = new LoadPlan({
    signingKey: loadDevSigningKey(join(t.stack.dataDir, "dev-github-signing-key.pem")),
    livePool,
    canaries,
    mix: onlyKind("new_live"),
    maxMatchesPerReport: 1,
  });
  for (let i = 0; i < 2; i++) {
    const { report, body, headers } = plan.next();
    const response = await fetch(`${t.stack.url}/v1/github/secret-scanning`, {
      method: "POST",
      headers,
      body,
    });
    report.status = response.status;
    await response.arrayBuffer();
  }
  await t.stack.queue.drain();
});
afterAll(() => t.close());

const checks = async () =>
  (
    await runChecks({
      stack: t.stack,
      plan,
      livePool,
      canaries,
      statusCodes: { 200: 2 },
      connectionErrors: 0,
      timeouts: 0,
      ownerChannels: ["email", "slack"],
    })
  ).checks;
const failed = async () => (await checks()).filter((c) => !c.ok).map((c) => c.name);

describe("the load test's checks", () => {
  it("pass when every key was revoked once and its owner told once per channel", async () => {
    expect(await failed()).toEqual([]);
  });

  it("fail on a leak that a 200 answer promised and the store lacks", async () => {
    plan.sent.push({ kind: "unknown_type", tokens: ["unk_never_sent"], status: 200 });
    plan.unknownSent.add("unk_never_sent");
    try {
      expect(await failed()).toEqual(["every distinct token exactly one leak"]);
    } finally {
      plan.sent.pop();
      plan.unknownSent.delete("unk_never_sent");
    }
  });

  it("fail when an owner is told twice on one channel", async () => {
    const outbox = join(t.stack.dataDir, "outbox");
    const [first] = readdirSync(outbox);
    copyFileSync(join(outbox, first as string), join(outbox, `again-${first}`));
    expect(await failed()).toEqual(["every owner told once per channel"]);
  });
});
