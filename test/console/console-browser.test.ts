import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { failTimes } from "../../local/sandbox/sandbox-faults.js";
import { seedLeaks } from "../../local/seed-leaks.js";
import {
  consoleContext,
  focusedElement,
  launchChromium,
  seriousViolations,
  sessionItem,
} from "../helpers/browser.js";
import {
  ADMIN_TOKEN,
  readJson,
  SANDBOX_TYPE,
  startTestStack,
  type TestStack,
} from "../helpers/test-stack.js";

// The console in real Chromium against the real local stack, seeded with leaks in every status: sign
// in, read the overview, filter, open a leak, dismiss, retry, export; axe-core on every page.

let t: TestStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const consoleUrl = (path = "") => `${t.stack.url}/admin/${path}`;

async function signedInPage(): Promise<Page> {
  const p = await context.newPage();
  await p.goto(`${consoleUrl()}#token=${ADMIN_TOKEN}`);
  await p.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
  return p;
}

async function expectAccessible(p: Page, where: string, include?: string) {
  const violations = await seriousViolations(p, include);
  expect(violations, `${where}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
}

beforeAll(async () => {
  // Export answers of 20 rows, so the console follows X-Next-Cursor over several.
  t = await startTestStack({ adminExportLimits: { maxRows: 20, pageSize: 20 } });
  await seedLeaks(t.stack.store, { count: 150, days: 30, seed: 14 });
  await t.stack.consoleBuilt;
  browser = await launchChromium();
  context = await consoleContext(browser);
  page = await signedInPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe("console sign-in", () => {
  it("asks for the token with a labelled form, returns to it when the API refuses, then signs in", async () => {
    const fresh = await (await consoleContext(browser)).newPage();
    await fresh.goto(consoleUrl());
    const input = fresh.getByLabel("Admin token");
    await input.fill("not-the-token");
    await fresh.getByRole("button", { name: "Sign in" }).click();
    await expect
      .poll(() => fresh.getByRole("status").textContent())
      .toMatch(/admin API refused the credential/);
    await expectAccessible(fresh, "sign-in");

    await fresh.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await fresh.getByRole("button", { name: "Sign in" }).click();
    await fresh.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    // The token field is a password field and the token is nowhere in the page.
    expect(await fresh.content()).not.toContain(ADMIN_TOKEN);
    await fresh.context().close();
  });

  it("takes the token from the link's fragment, keeps it for the tab and clears the address bar", async () => {
    const fresh = await (await consoleContext(browser)).newPage();
    await fresh.goto(`${consoleUrl()}#token=${ADMIN_TOKEN}`);
    await fresh.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    expect(fresh.url()).toBe(consoleUrl());
    expect(await sessionItem(fresh, "tq.credential")).toContain(ADMIN_TOKEN);
    await fresh.reload();
    await fresh.getByRole("heading", { name: "Overview", level: 1 }).waitFor();

    await fresh.getByRole("button", { name: "Sign out" }).click();
    await fresh.getByLabel("Admin token").waitFor();
    expect(await sessionItem(fresh, "tq.credential")).toBeNull();
    await fresh.context().close();
  });
});

describe("console overview", () => {
  it("shows the API's figures, the charts and what needs attention", async () => {
    const overview = await readJson(await t.admin("/v1/admin/overview"));
    await page.goto(consoleUrl());
    await page.getByRole("heading", { name: "Leaks by status over time" }).waitFor();
    const failedCard = page.locator('[data-card="Failed"] .card-value');
    expect(await failedCard.textContent()).toBe(overview.attention.failed.toLocaleString("en-US"));
    expect(overview.attention.failed).toBeGreaterThan(0);
    expect(await page.locator('[data-card="Leaks in window"] .card-value').textContent()).toBe(
      overview.total.toLocaleString("en-US"),
    );
    const all = overview.time_to_revoke.find((x: { token_type: string }) => x.token_type === "all");
    expect(await page.locator('tr[data-token-type="all"] td').nth(0).textContent()).toBe(
      all.count.toLocaleString("en-US"),
    );
    expect(await page.locator("canvas").count()).toBeGreaterThanOrEqual(2);
    expect(await page.evaluate(() => performance.getEntriesByName("tq:overview-rendered").length)).toBe(1);
    await expectAccessible(page, "overview");

    // A card leads to the list filtered on what it counts.
    await page.locator('[data-card="Failed"] a').click();
    await page.getByRole("heading", { name: "Leaks", level: 1 }).waitFor();
    expect(new URL(page.url()).searchParams.getAll("status")).toEqual(["failed"]);
  });
});

describe("console in the dark colour scheme", () => {
  it("keeps the overview and a leak's page accessible (contrast included)", async () => {
    const dark = await (await consoleContext(browser, "dark")).newPage();
    await dark.goto(`${consoleUrl()}#token=${ADMIN_TOKEN}`);
    await dark.getByRole("heading", { name: "Leaks by status over time" }).waitFor();
    await expectAccessible(dark, "overview (dark)");
    const id = (await readJson(await t.admin("/v1/admin/leaks?status=failed&limit=1"))).items[0].id;
    await dark.goto(consoleUrl(`leaks/${id}`));
    await dark.getByRole("heading", { name: "Timeline" }).waitFor();
    await expectAccessible(dark, "leak detail (dark)");
    await dark.context().close();
  });
});

describe("console leak list", () => {
  it("filters by several statuses, keeps the filters in the URL and lists what the API lists", async () => {
    await page.goto(consoleUrl("leaks"));
    await page.getByRole("group", { name: "Status", exact: true }).waitFor();
    await page.getByRole("checkbox", { name: "failed" }).check();
    await page.getByRole("checkbox", { name: "unroutable" }).check();
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/status=failed&status=unroutable/);
    await page.locator("table.leaks tbody tr").first().waitFor();

    const expected = await readJson(await t.admin("/v1/admin/leaks?status=failed,unroutable&limit=25"));
    const ids = await page
      .locator("table.leaks tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-leak-id")));
    expect(ids).toEqual(expected.items.map((l: { id: string }) => l.id));
    const badges = await page.locator("table.leaks .badge").allTextContents();
    expect(new Set(badges)).toEqual(new Set(["failed", "unroutable"]));
    await expectAccessible(page, "leak list");

    // The same URL opened in another tab (signed in there: the credential is kept per tab) shows the
    // same view, and the sign-in link's fragment leaves the filters in place.
    const shared = await context.newPage();
    await shared.goto(`${page.url()}#token=${ADMIN_TOKEN}`);
    await shared.locator("table.leaks tbody tr").first().waitFor();
    expect(shared.url()).toBe(page.url());
    expect(await shared.getByRole("checkbox", { name: "failed" }).isChecked()).toBe(true);
    await shared.close();
  });

  it("pages with the cursor, forwards and back", async () => {
    await page.goto(consoleUrl("leaks"));
    await page.locator("table.leaks tbody tr").first().waitFor();
    const first = await page.locator("table.leaks tbody tr").first().getAttribute("data-leak-id");
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByText("Page 2").waitFor();
    await page.locator("table.leaks tbody tr").first().waitFor();
    expect(await page.locator("table.leaks tbody tr").first().getAttribute("data-leak-id")).not.toBe(first);
    await page.getByRole("button", { name: "Previous" }).click();
    await page.getByText("Page 1").waitFor();
    await page.locator("table.leaks tbody tr").first().waitFor();
    expect(await page.locator("table.leaks tbody tr").first().getAttribute("data-leak-id")).toBe(first);
  });

  it("finds a leak by its preview or fingerprint in one search box", async () => {
    const some = (await readJson(await t.admin("/v1/admin/leaks?status=revoked&limit=1"))).items[0];
    for (const search of [some.preview, some.fingerprint]) {
      await page.goto(consoleUrl("leaks"));
      await page.getByLabel("Fingerprint or preview").fill(search);
      await page.getByRole("button", { name: "Apply filters" }).click();
      await page.waitForURL(/q=/);
      await page.locator(`tr[data-leak-id="${some.id}"]`).waitFor();
    }
  });

  it("shows an API error plainly", async () => {
    await page.goto(consoleUrl("leaks?since=yesterday"));
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/since.*\(bad_request, HTTP 400\)/);
  });

  it("exports the filtered leaks as CSV through the export route", async () => {
    await page.goto(consoleUrl("leaks?status=revoked"));
    await page.locator("table.leaks tbody tr").first().waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^tourniquet-leaks-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path()) as string, "utf8");
    const lines = csv.trim().split("\n");
    expect(lines[0]?.startsWith("id,first_seen,token_type,status,preview,fingerprint")).toBe(true);
    const revoked = (await readJson(await t.admin("/v1/admin/leaks?status=revoked&limit=100"))).items;
    expect(lines.length - 1).toBe(revoked.length);
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(revoked.map((l: { id: string }) => l.id));
    expect(lines.slice(1).every((l) => l.split(",")[3] === "revoked")).toBe(true);
    // Several answers were joined: one header, every row once.
    expect(revoked.length).toBeGreaterThan(20);
    expect(lines.filter((l) => l.startsWith("id,")).length).toBe(1);
  });
});

describe("console leak detail and actions", () => {
  it("shows the timeline as a history with actors and the time since the report", async () => {
    const id = (await readJson(await t.admin("/v1/admin/leaks?status=revoked&limit=1"))).items[0].id;
    const leak = await readJson(await t.admin(`/v1/admin/leaks/${id}`));
    await page.goto(consoleUrl("leaks"));
    await page.locator(`tr[data-leak-id="${id}"] a`).click();
    await page.getByRole("heading", { name: "Timeline" }).waitFor();
    const events = page.locator("ol.timeline > li");
    expect(await events.count()).toBe(leak.timeline.length);
    expect(await events.locator(".event-step").allTextContents()).toEqual(
      leak.timeline.map((e: { step: string }) => e.step),
    );
    expect(await events.first().textContent()).toMatch(/after the report/);
    expect(await page.getByRole("heading", { name: "Sightings" }).count()).toBe(1);
    const sightingLinks = page.locator("table a[target=_blank]");
    if ((await sightingLinks.count()) > 0) {
      expect(await sightingLinks.first().getAttribute("rel")).toBe("noopener noreferrer");
    }
    await expectAccessible(page, "leak detail");
  });

  it("dismisses a leak behind a confirmation, and the timeline names the admin", async () => {
    const id = (await readJson(await t.admin("/v1/admin/leaks?status=inactive&limit=1"))).items[0].id;
    await page.goto(consoleUrl(`leaks/${id}`));
    const dismiss = page.getByRole("button", { name: "Dismiss" });
    await dismiss.click();
    const dialog = page.getByRole("dialog", { name: "Dismiss this leak?" });
    await dialog.waitFor();
    expect((await focusedElement(page)).id).toBe("dismiss-reason");
    await expectAccessible(page, "dismiss dialog", "dialog");

    // Escape closes it without acting, and focus goes back to the button.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect((await focusedElement(page)).text).toBe("Dismiss");
    expect((await readJson(await t.admin(`/v1/admin/leaks/${id}`))).status).toBe("inactive");

    await dismiss.click();
    await dialog.getByLabel("Reason").selectOption("test_token");
    await dialog.getByLabel("Note (optional)").fill("seeded by the browser test");
    await dialog.getByRole("button", { name: "Dismiss" }).click();
    await page.getByRole("heading", { name: "Dismissal" }).waitFor();
    const last = page.locator("ol.timeline > li").last();
    expect(await last.textContent()).toMatch(/dismiss.*by admin-token/);
    expect(await page.locator("h1 .badge").textContent()).toBe("dismissed");
    const stored = await readJson(await t.admin(`/v1/admin/leaks/${id}`));
    expect(stored.dismissal).toMatchObject({
      reason: "test_token",
      note: "seeded by the browser test",
      by: "admin-token",
    });
  });

  it("retries a failed leak, which the worker then revokes", async () => {
    t.faults.plan = failTimes("revoke", 1, 401);
    const key = await t.issueKey({ email: "owner@example.test" });
    await t.report([{ token: key.token, type: SANDBOX_TYPE, url: "https://e.example/f", source: "commit" }]);
    await t.stack.queue.drain();
    const failed = await t.leakByFingerprint(fingerprintToken(key.token));
    expect(failed?.status).toBe("failed");
    t.faults.plan = undefined;

    await page.goto(consoleUrl(`leaks/${failed?.id}`));
    await page.getByRole("heading", { name: "Failure" }).waitFor();
    await page.getByRole("button", { name: "Retry" }).click();
    const dialog = page.getByRole("dialog", { name: "Retry this leak?" });
    expect(await dialog.textContent()).toMatch(/resumes from the step that failed \(revoke\)/);
    await dialog.getByRole("button", { name: "Retry" }).click();
    await page.getByText("Retry queued.").waitFor();
    await page.locator('ol.timeline > li[data-step="retry"]').waitFor();
    expect(await page.locator('ol.timeline > li[data-step="retry"]').textContent()).toMatch(/by admin-token/);

    await t.stack.queue.drain();
    await page.reload();
    await page.getByRole("heading", { name: "Timeline" }).waitFor();
    expect(await page.locator("h1 .badge").textContent()).toBe("revoked");
    expect(await t.sandboxKey(key.key_id)).toMatchObject({ status: "revoked" });
    // The token itself never reaches the page.
    expect(await page.content()).not.toContain(key.token);
  });

  it("shows the API's answer when a leak does not exist", async () => {
    await page.goto(consoleUrl("leaks/lk_000000000000000000000000"));
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(
      /no leak with id lk_000000000000000000000000 \(not_found, HTTP 404\)/,
    );
  });
});
