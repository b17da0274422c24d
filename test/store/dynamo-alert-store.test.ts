import { beforeEach, describe, expect, it } from "vitest";
import { ConflictError } from "../../lib/errors.js";
import { type AlertReceipt, alertIdFor } from "../../lib/github/alert-record.js";
import { DynamoAlertStore } from "../../lib/store/dynamo-alert-store.js";
import { createTestStore, sharedEngine } from "../helpers/dynamo.js";

// The App path's alert records against the embedded engine: a delivery is recorded once however often
// it comes, a new delivery of a known alert owes a fetch again, and owed fetches are listed oldest first.

const receipt = (number: number, overrides: Partial<AlertReceipt> = {}): AlertReceipt => ({
  installationId: 42,
  owner: "acme",
  repo: "app",
  number,
  secretType: "github_personal_access_token",
  repoHtmlUrl: "https://github.com/acme/app",
  ...overrides,
});
const T0 = Date.parse("2026-11-27T10:00:00.000Z");

describe("DynamoAlertStore (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let alerts: DynamoAlertStore;

  beforeEach(async () => {
    const t = await createTestStore(engine());
    alerts = new DynamoAlertStore(t.client, t.tableName);
  });

  it("records a new alert owing its fetch, and the same delivery again changes nothing", async () => {
    const first = await alerts.recordAlert(receipt(1), { delivery: "d-1", at: T0 });
    expect(first).toMatchObject({ duplicate: false, alert: { id: alertIdFor(receipt(1)), fetchOwed: true } });
    expect(first.alert).toMatchObject({ receivedAtMs: T0, deliveries: ["d-1"], attempts: 0, version: 1 });

    const again = await alerts.recordAlert(receipt(1), { delivery: "d-1", at: T0 + 5_000 });
    expect(again.duplicate).toBe(true);
    expect(await alerts.getAlert(first.alert.id)).toEqual(first.alert);
  });

  it("records one alert with one delivery when the same delivery arrives ten times at once", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => alerts.recordAlert(receipt(2), { delivery: "d-2", at: T0 })),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const stored = await alerts.getAlert(alertIdFor(receipt(2)));
    expect(stored).toMatchObject({ deliveries: ["d-2"], version: 1 });
  });

  it("owes the fetch again for a new delivery of a fetched alert (reopened), keeping when it was first reported", async () => {
    const { alert } = await alerts.recordAlert(receipt(3), { delivery: "d-3", at: T0 });
    const fetched = await alerts.updateAlert(alert, { fetchOwed: false, leakId: "lk_1", attempts: 2 });
    const reopened = await alerts.recordAlert(receipt(3), { delivery: "d-4", at: T0 + 60_000 });
    expect(reopened.duplicate).toBe(false);
    expect(reopened.alert).toMatchObject({
      fetchOwed: true,
      attempts: 0,
      deliveries: ["d-3", "d-4"],
      receivedAtMs: T0,
      leakId: "lk_1",
      version: fetched.version + 1,
    });
  });

  it("without a delivery (the sweep), records only an alert it does not know", async () => {
    const swept = await alerts.recordAlert(receipt(4), { at: T0 });
    expect(swept).toMatchObject({ duplicate: false, alert: { deliveries: [], fetchOwed: true } });
    const fetched = await alerts.updateAlert(swept.alert, { fetchOwed: false });
    const again = await alerts.recordAlert(receipt(4), { at: T0 + 1 });
    expect(again).toEqual({ alert: fetched, duplicate: true });
  });

  it("refuses a write over a version it did not read", async () => {
    const { alert } = await alerts.recordAlert(receipt(5), { delivery: "d-5", at: T0 });
    await alerts.updateAlert(alert, { attempts: 1 });
    await expect(alerts.updateAlert(alert, { attempts: 2 })).rejects.toThrow(ConflictError);
  });

  it("lists alerts owing their fetch, least recently active first, and pages through them", async () => {
    for (let n = 10; n < 15; n++) {
      await alerts.recordAlert(receipt(n), { delivery: `d-${n}`, at: T0 + (20 - n) * 1_000 });
    }
    const done = await alerts.getAlert(alertIdFor(receipt(12)));
    if (done) await alerts.updateAlert(done, { fetchOwed: false });
    const until = new Date(T0 + 60_000).toISOString();

    const first = await alerts.listOwedAlerts({ until, limit: 2 });
    const second = await alerts.listOwedAlerts({ until, limit: 10, cursor: first.nextCursor ?? undefined });
    expect([...first.items, ...second.items].map((a) => a.number)).toEqual([14, 13, 11, 10]);
    expect(
      (await alerts.listOwedAlerts({ until: new Date(T0 + 7_500).toISOString(), limit: 10 })).items.map(
        (a) => a.number,
      ),
    ).toEqual([14, 13]);
  });

  it("keeps the sweep's mark per installation, never moving it back", async () => {
    expect(await alerts.getSweepMark(42)).toBeUndefined();
    await alerts.setSweepMark(42, "2026-11-27T10:00:00.000Z");
    await alerts.setSweepMark(42, "2026-11-27T09:00:00.000Z");
    expect(await alerts.getSweepMark(42)).toBe("2026-11-27T10:00:00.000Z");
    expect(await alerts.getSweepMark(7)).toBeUndefined();
  });

  it("clears the mark; a listing that started before the clear cannot set it again, a later one can", async () => {
    await alerts.setSweepMark(43, "2026-11-27T10:00:00.000Z");
    await alerts.clearSweepMark(43, "2026-11-27T10:05:00.000Z");
    expect(await alerts.getSweepMark(43)).toBeUndefined();

    await alerts.setSweepMark(43, "2026-11-27T10:04:00.000Z"); // started before the clear
    expect(await alerts.getSweepMark(43)).toBeUndefined();
    await alerts.clearSweepMark(43, "2026-11-27T10:01:00.000Z"); // an older clear keeps the later bar
    await alerts.setSweepMark(43, "2026-11-27T10:03:00.000Z");
    expect(await alerts.getSweepMark(43)).toBeUndefined();

    await alerts.setSweepMark(43, "2026-11-27T10:06:00.000Z");
    expect(await alerts.getSweepMark(43)).toBe("2026-11-27T10:06:00.000Z");
    await alerts.clearSweepMark(44, "2026-11-27T10:05:00.000Z"); // no mark yet: nothing to forget
    expect(await alerts.getSweepMark(44)).toBeUndefined();
  });
});
