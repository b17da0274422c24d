import { describe, expect, it } from "vitest";
import { LEAK_STATUSES, type Leak, type LeakStatus } from "../../lib/store/leak.js";
import { awaitsWorker, owedStep, type Step } from "../../lib/store/leak-lifecycle.js";
import { makeLeak } from "../helpers/dynamo.js";

const told = { notification: { status: "sent" as const, at: "2026-01-01T00:00:00.000Z" } };
const replaced = {
  replacement: { keyId: "k2", deliveredBy: "issuer" as const, where: "issuer", at: "2026-01-01T00:00:00Z" },
};
const rotateFailed = { failure: { step: "rotate", reason: "503", at: "2026-01-01T00:00:00.000Z" } };

// status, mode, extra fields → the step owed. Every row is one the worker, intake, sweep and admin
// retry all act on through owedStep; before it, three copies disagreed on `failed` and untold leaks.
const table: [LeakStatus, string, Partial<Leak>, Step | undefined][] = [
  ["pending", "revoke", {}, "verify"],
  ["pending", "notify_only", {}, "verify"],
  ["active", "revoke", {}, "revoke"],
  ["active", "revoke_and_rotate", {}, "revoke"],
  ["active", "dry_run", {}, "dry_run"],
  ["active", "notify_only", {}, "notify"],
  ["active", "notify_only", told, undefined],
  ["revoked", "revoke", {}, "notify"],
  ["revoked", "revoke", told, undefined],
  ["revoked", "revoke_and_rotate", {}, "rotate"],
  ["revoked", "revoke_and_rotate", replaced, "notify"],
  ["revoked", "revoke_and_rotate", { ...replaced, ...told }, undefined],
  ["revoked", "revoke_and_rotate", rotateFailed, "notify"],
  ["revoked", "revoke_and_rotate", { ...rotateFailed, ...told }, undefined],
  ["failed", "revoke", {}, "notify"],
  ["failed", "revoke", told, undefined],
  ["failed", "notify_only", { notification: { status: "failed", at: "2026-01-01T00:00:00Z" } }, undefined],
];

describe("owedStep: what the worker still owes a leak", () => {
  it.each(table)("%s under %s %o → %s", (status, mode, extra, step) => {
    expect(owedStep(makeLeak({ status, mode, ...extra }))).toBe(step);
  });

  it("owes nothing to a settled leak, whatever its mode or notification", () => {
    const settled = LEAK_STATUSES.filter((s) => !["pending", "active", "revoked", "failed"].includes(s));
    for (const status of settled) {
      for (const mode of ["revoke", "revoke_and_rotate", "notify_only", "dry_run"]) {
        expect(owedStep(makeLeak({ status, mode }))).toBeUndefined();
      }
    }
  });

  it("uses the fallback mode only for a leak verified before modes were recorded", () => {
    expect(owedStep(makeLeak({ status: "active" }), "dry_run")).toBe("dry_run");
    expect(owedStep(makeLeak({ status: "active", mode: "revoke" }), "dry_run")).toBe("revoke");
  });

  it("awaits a worker only when a step is owed and no live lease holds the leak", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    const lease = (until: number) => ({ lease: { step: "revoke", holder: "w", until } });
    expect(awaitsWorker(makeLeak({ status: "active", mode: "revoke" }), now)).toBe(true);
    expect(awaitsWorker(makeLeak({ status: "active", mode: "revoke", ...lease(now + 1) }), now)).toBe(false);
    expect(awaitsWorker(makeLeak({ status: "active", mode: "revoke", ...lease(now - 1) }), now)).toBe(true);
    expect(awaitsWorker(makeLeak({ status: "revoked", mode: "revoke", ...told }), now)).toBe(false);
  });
});
