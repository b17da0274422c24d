import type { Page } from "playwright-core";
import { startSeededConsole } from "./seeded-console.js";

// `npm run screenshots`: the console's overview and a leak's page at 1280×800 from a seeded local
// stack, written under docs/ (the README shows them). Light, plus the overview in dark.

/** A fixed "now", so the pictures change only when the console does. */
const NOW = Date.parse("2026-11-27T12:00:00.000Z");

const { stack, browser, leaks, close } = await startSeededConsole({
  count: 1_500,
  days: 30,
  seed: 42,
  now: NOW,
});
try {
  // A revoked key with the issuer's usage figures, for the leak page.
  const shown =
    leaks.find((l) => l.status === "revoked" && l.tokenType === "azure_openai_key" && l.evidence?.usage) ??
    leaks.find((l) => l.status === "revoked");
  if (!shown) throw new Error("the seed holds no revoked leak");

  const shoot = async (
    scheme: "light" | "dark",
    path: string,
    file: string,
    ready: (page: Page) => Promise<void>,
  ) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: scheme });
    const page = await context.newPage();
    await page.goto(`${stack.url}/admin/${path}#token=${stack.adminToken}`);
    await ready(page);
    await page.screenshot({ path: file });
    process.stdout.write(`wrote ${file}\n`);
    await context.close();
  };
  const overviewDrawn = (page: Page) =>
    page
      .waitForFunction(() => performance.getEntriesByName("tq:overview-rendered").length > 0)
      .then(() => undefined);
  const leakShown = (page: Page) => page.getByRole("heading", { name: "Timeline" }).waitFor();

  await shoot("light", "?days=30", "docs/console-overview.png", overviewDrawn);
  await shoot("dark", "?days=30", "docs/console-overview-dark.png", overviewDrawn);
  await shoot("light", `leaks/${shown.id}`, "docs/console-leak.png", leakShown);
} finally {
  await close();
}
