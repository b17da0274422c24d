import { describe, expect, it } from "vitest";
import type { AlertLink } from "../../lib/github/alert-record.js";
import { LEAK_STATUSES, type Leak, type LeakStatus } from "../../lib/store/leak.js";
import {
  alertResolutionOwed,
  awaitsWorker,
  owedStep,
  type Step,
  unresolvedAlerts,
} from "../../lib/store/leak-lifecycle.js";
import { makeLeak } from "../helpers/dynamo.js";

const told = { notification: { status: "sent" as const, at: "2026-01-01T00:00:00.000Z" } };
const replaced = {
  replacement: { keyId: "k2", deliveredBy: "issuer" as const, where: "issuer", at: "2026-01-01T00:00:00Z" },
};
const rotateFailed = { failure: { step: "rotate", reason: "503", at: "2026-01-01T00:00:00.000Z" } };
const AT = "2026-01-01T00:00:00.000Z";
const link = (number: number, extra: Partial<AlertLink> = {}): AlertLink => ({
  alertId: `al_${String(number).padStart(24, "0")}`,
  installationId: 1,
  owner: "acme",
  repo: "app",
  number,
  ...extra,
});
const open = { alerts: [link(1)] };
const resolvedLink = link(1, { resolved: { resolution: "revoked", at: AT } });
const leftOpenLink = link(2, { leftOpen: { outcome: "failed" as const, reason: "HTTP 404", at: AT } });
const allDone = { alerts: [resolvedLink, leftOpenLink] };
const fpPolicy = { resolveFalsePositiveAlerts: true };

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
  // GitHub App alerts: resolved last, once the leak is settled the right way and everything else is done.
  ["revoked", "revoke", { ...told, ...open }, "resolve_alerts"],
  ["revoked", "revoke", { ...open }, "notify"],
  ["revoked", "revoke_and_rotate", { ...told, ...open }, "rotate"],
  ["revoked", "revoke_and_rotate", { ...replaced, ...open }, "notify"],
  ["revoked", "revoke_and_rotate", { ...replaced, ...told, ...open }, "resolve_alerts"],
  ["revoked", "revoke_and_rotate", { ...rotateFailed, ...told, ...open }, "resolve_alerts"],
  ["revoked", "revoke", { ...told, alerts: [resolvedLink, link(3)] }, "resolve_alerts"],
  ["revoked", "revoke", { ...told, ...allDone }, undefined],
  ["revoked", "revoke", { ...told, alerts: [] }, undefined],
  ["inactive", "revoke", open, "resolve_alerts"],
  ["inactive", "notify_only", open, "resolve_alerts"],
  ["inactive", "revoke", allDone, undefined],
  ["false_positive", "revoke", open, undefined],
  ["false_positive", "revoke", { ...open, resolveFalsePositiveAlerts: false }, undefined],
  ["false_positive", "revoke", { ...open, ...fpPolicy }, "resolve_alerts"],
  ["false_positive", "revoke", { ...allDone, ...fpPolicy }, undefined],
  ["failed", "revoke", { ...told, ...open }, undefined],
  ["failed", "revoke", { ...open }, "notify"],
  ["active", "revoke", open, "revoke"],
  ["active", "notify_only", { ...told, ...open }, undefined],
  ["pending", "revoke", open, "verify"],
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

  it("never owes an alert resolution for a leak left live or closed another way, whatever it holds", () => {
    const never: LeakStatus[] = [
      "failed",
      "notified",
      "dry_run",
      "dismissed",
      "unroutable",
      "allowlisted",
      "paired",
    ];
    for (const status of never) {
      for (const mode of ["revoke", "revoke_and_rotate", "notify_only", "dry_run"]) {
        const leak = makeLeak({ status, mode, ...told, ...replaced, ...open, ...fpPolicy });
        expect(owedStep(leak), `${status} under ${mode}`).toBeUndefined();
        expect(alertResolutionOwed(leak), status).toBeUndefined();
      }
    }
  });

  it("resolves as revoked a revoked or already inactive key, as false_positive only by policy", () => {
    expect(alertResolutionOwed(makeLeak({ status: "revoked" }))).toBe("revoked");
    expect(alertResolutionOwed(makeLeak({ status: "inactive" }))).toBe("revoked");
    expect(alertResolutionOwed(makeLeak({ status: "false_positive" }))).toBeUndefined();
    expect(alertResolutionOwed(makeLeak({ status: "false_positive", ...fpPolicy }))).toBe("false_positive");
    // The policy fixed on a leak says nothing once it is not a false positive.
    expect(alertResolutionOwed(makeLeak({ status: "notified", ...fpPolicy }))).toBeUndefined();
  });

  it("counts a link resolved or left open as done: a resolved alert is never resolved again", () => {
    const leak = makeLeak({ status: "revoked", alerts: [resolvedLink, leftOpenLink, link(3)] });
    expect(unresolvedAlerts(leak).map((l) => l.number)).toEqual([3]);
    expect(unresolvedAlerts(makeLeak({ status: "revoked" }))).toEqual([]);
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
