import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import type { Leak } from "../../lib/store/leak.js";
import type { LeakStore } from "../../lib/store/leak-store.js";
import { type LocalStack, startLocalStack } from "../../local/local-stack.js";
import { makeLeak } from "../helpers/dynamo.js";
import { recordingLog } from "../helpers/recording-log.js";
import { startTestEngine } from "../helpers/test-engine.js";
import { startTestStack, type TestStack } from "../helpers/test-stack.js";

// A leak written by the intake whose queue message never reached the worker (the send failed after the
// write, or the local queue restarted) is found by the scheduled sweep and remediated, once.

const SANDBOX_TYPE = "tourniquet_sandbox_token";

/** The leak as the intake writes it, `idleMinutes` ago, with the token sealed by the stack's own key. */
async function writeLostLeak(store: LeakStore, dataDir: string, token: string, idleMinutes: number) {
  const at = new Date(Date.now() - idleMinutes * 60_000).toISOString();
  const fingerprint = fingerprintToken(token);
  const leak = makeLeak({ fingerprint, tokenType: SANDBOX_TYPE, issuer: "sandbox", firstSeen: at });
  const sealer = new LocalKeySealer(LocalKeySealer.loadKey(join(dataDir, "queue.key")));
  const lost: Leak = {
    ...leak,
    receivedAtMs: Date.parse(at),
    sealedToken: await sealer.seal(token, leak.id),
    timeline: [{ at, step: "intake", outcome: "ok", actor: "intake", detail: "report received" }],
  };
  await store.createLeak(lost);
  return lost;
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("leaks whose queue message was lost", () => {
  let t: TestStack | undefined;
  let restarted: LocalStack | undefined;
  let dataDir: string | undefined;

  afterEach(async () => {
    await t?.close();
    await restarted?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    t = restarted = dataDir = undefined;
  });

  it("are sent to the worker again by the sweep and revoked once; a second sweep finds nothing", async () => {
    t = await startTestStack();
    const key = await t.issueKey({ email: "owner@example.test" });
    const lost = await writeLostLeak(t.stack.store, t.stack.dataDir, key.token, 30);

    const result = await t.stack.sweep();
    expect(result.reconcile.requeued).toBe(1);
    expect(t.sentMessage(lost.id).sealedToken).toBe(lost.sealedToken);

    const leak = await waitFor(
      () => t?.leakByFingerprint(lost.fingerprint) ?? Promise.resolve(undefined),
      (l) => l?.status === "revoked" && l.notification !== null,
    );
    expect(leak?.status).toBe("revoked");
    expect(leak?.timeline.map((e) => e.step)).toEqual(
      expect.arrayContaining(["reconcile", "revoke", "notify"]),
    );
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked", revocations: 1 });

    const again = await t.stack.sweep();
    expect(again.reconcile.requeued).toBe(0);
  });

  it("leaves a recent leak to its message, however the sweep is timed", async () => {
    t = await startTestStack();
    const key = await t.issueKey();
    await writeLostLeak(t.stack.store, t.stack.dataDir, key.token, 1);
    expect((await t.stack.sweep()).reconcile.requeued).toBe(0);
  });

  // Longer than the default timeout: two starts of the engine, and DynamoDB Local's JVM takes seconds.
  it("are picked up when the local stack starts again", async () => {
    dataDir = mkdtempSync(join(tmpdir(), "tourniquet-restart-"));
    const env = { TOURNIQUET_ADMIN_TOKEN: "restart-admin-token", GITHUB_PUBLIC_KEYS_URL: undefined };
    // On the test engine, with its files in the data dir, so the restart finds what the first wrote.
    const startDb = startTestEngine;
    const first = await startLocalStack({ port: 0, dataDir, env, log: recordingLog().log, startDb });
    const issued = first.sandbox.issue({ email: "owner@example.test" });
    // Written as the intake would, a moment ago; the process then stops before the queue delivers it.
    const lost = await writeLostLeak(first.store, dataDir, issued.token, 0);
    await first.close();

    restarted = await startLocalStack({ port: 0, dataDir, env, log: recordingLog().log, startDb });
    const store = restarted.store;
    const leak = await waitFor(
      () => store.getLeak(lost.id),
      (l) => l?.status === "revoked",
    );
    expect(leak?.status).toBe("revoked");
    expect(restarted.sandbox.get(issued.keyId)).toMatchObject({ status: "revoked", revocations: 1 });
  }, 60_000);
});
