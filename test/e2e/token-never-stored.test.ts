import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintToken, redactToken } from "../../lib/intake/fingerprint.js";
import { failTimes } from "../../local/sandbox/sandbox-faults.js";
import { SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// After a full run — revocations, a failure, duplicates, a dead letter — the raw tokens appear nowhere
// Tourniquet writes: database files, outbox, logs, queue messages, dead letters.

let t: TestStack;
const tokens: string[] = [];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

beforeAll(async () => {
  t = await startTestStack();
  for (let i = 0; i < 3; i++) tokens.push((await t.issueKey()).token);
  const matches = tokens.map((token, i) => ({
    token,
    type: SANDBOX_TYPE,
    url: `https://leak.example/${i}`,
    source: "commit",
  }));
  await t.report(matches);
  await t.report([
    ...matches,
    { token: "ghp_0123456789abcdefghijklmnopqrstuvwxyz", type: "github_personal_access_token" },
  ]);
  tokens.push("ghp_0123456789abcdefghijklmnopqrstuvwxyz");
  await t.stack.queue.drain();
  t.faults.plan = failTimes("revoke", 100, 503);
  const failing = (await t.issueKey()).token;
  tokens.push(failing);
  await t.report([{ token: failing, type: SANDBOX_TYPE, url: "", source: "commit" }]);
  await t.stack.queue.drain();
  await t.stack.queue.send([
    { leakId: "lk_000000000000000000000000", sealedToken: t.sentMessages[0]?.sealedToken ?? "" },
  ]);
  await t.stack.queue.drain();
});
afterAll(() => t.close());

describe("the raw token", () => {
  it("is absent from the database files, which do hold the fingerprints", () => {
    const contents = filesUnder(join(t.stack.dataDir, "db")).map((file) =>
      readFileSync(file).toString("latin1"),
    );
    const all = contents.join("\n");
    // Canary: the scan reads the data it means to (fingerprints and previews are stored in the clear).
    expect(all).toContain(fingerprintToken(tokens[0] ?? ""));
    for (const token of tokens) expect(all).not.toContain(token);
  });

  it("is absent from the outbox, which does hold the previews", () => {
    const messages = filesUnder(join(t.stack.dataDir, "outbox")).map((file) => readFileSync(file, "utf8"));
    expect(messages.length).toBeGreaterThanOrEqual(6); // email and Slack for each revoked leak, and more
    expect(messages.join("\n")).toContain(redactToken(tokens[0] ?? ""));
    for (const token of tokens) for (const message of messages) expect(message).not.toContain(token);
  });

  it("is absent from every log line", () => {
    expect(t.logLines.length).toBeGreaterThan(5);
    for (const token of tokens) for (const line of t.logLines) expect(line).not.toContain(token);
  });

  it("travels sealed in queue messages and dead letters", async () => {
    expect(t.sentMessages.length).toBeGreaterThanOrEqual(4);
    const sent = JSON.stringify(t.sentMessages);
    for (const token of tokens) expect(sent).not.toContain(token);
    const deadLetters = readFileSync(join(t.stack.dataDir, "dead-letters.jsonl"), "utf8");
    expect(deadLetters).toContain("lk_000000000000000000000000");
    for (const token of tokens) expect(deadLetters).not.toContain(token);
  });

  it("is absent from the admin API's answers and the timeline of a failed leak", async () => {
    const list = await (await t.admin("/v1/admin/leaks?limit=100")).text();
    const details = await Promise.all(
      tokens.map(async (token) => (await t.leakByFingerprint(fingerprintToken(token))) ?? {}),
    );
    expect(details.some((leak) => "status" in leak && leak.status === "failed")).toBe(true);
    const all = list + JSON.stringify(details);
    for (const token of tokens) expect(all).not.toContain(token);
  });
});
