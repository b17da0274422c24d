import { createPublicKey, verify } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LoadPlan, UNKNOWN_TYPE } from "../../bench/load/load-plan.js";
import { loadDevSigningKey } from "../../local/dev-signing-key.js";
import { onlyKind } from "../helpers/load-mix.js";

const dir = mkdtempSync(join(tmpdir(), "tourniquet-load-plan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const signingKey = loadDevSigningKey(join(dir, "key.pem"));
const publicKey = createPublicKey(signingKey.publicKeyPem);
const keys = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ token: `${prefix}_token_${i}`, keyId: `${prefix}_${i}` }));
const validlySigned = (body: string, headers: Record<string, string>) =>
  headers["Github-Public-Key-Identifier"] === signingKey.keyId &&
  verify(
    "sha256",
    Buffer.from(body),
    { key: publicKey, dsaEncoding: "der" },
    Buffer.from(headers["Github-Public-Key-Signature"] ?? "", "base64"),
  );

describe("the load plan", () => {
  it("reports each pooled live key new once, then repeats them once the pool is used up", () => {
    const pool = keys("live", 5);
    const plan = new LoadPlan({
      signingKey,
      livePool: pool,
      canaries: keys("canary", 2),
      mix: onlyKind("new_live"),
    });
    const reports = Array.from({ length: 10 }, () => plan.next());

    const newTokens = reports.filter((r) => r.report.kind === "new_live").flatMap((r) => r.report.tokens);
    expect(newTokens.sort()).toEqual(pool.map((k) => k.token).sort());
    expect(plan.poolExhausted).toBe(true);
    expect(reports.at(-1)?.report.kind).toBe("repeat");
    for (const { body, headers } of reports) expect(validlySigned(body, headers)).toBe(true);
  });

  it("sends only canary keys with a wrong signature or an unpublished key id", () => {
    const canaries = keys("canary", 3);
    for (const kind of ["bad_signature", "unknown_key_id"] as const) {
      const plan = new LoadPlan({ signingKey, livePool: keys("live", 3), canaries, mix: onlyKind(kind) });
      const { report, body, headers } = plan.next();
      expect(report.kind).toBe(kind);
      expect(validlySigned(body, headers)).toBe(false);
      for (const token of report.tokens) expect(canaries.map((c) => c.token)).toContain(token);
      expect(plan.liveSent.size).toBe(0);
    }
  });

  it("reports unknown types under a type no issuer handles, some of them again", () => {
    const plan = new LoadPlan({ signingKey, livePool: [], canaries: [], mix: onlyKind("unknown_type") });
    const bodies = Array.from({ length: 30 }, () => plan.next().body);
    const matches = bodies.flatMap((body) => JSON.parse(body) as { token: string; type: string }[]);

    expect(new Set(matches.map((m) => m.type))).toEqual(new Set([UNKNOWN_TYPE]));
    expect(plan.unknownSent.size).toBeLessThan(matches.length);
  });
});
