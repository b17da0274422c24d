import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { startLocalStack } from "./local-stack.js";
import { seedLeaks } from "./seed-leaks.js";

// `npm run screenshots`: the console's overview and a leak's page at 1280×800 from a seeded local
// stack, written under docs/ (the README shows them). Light, plus the overview in dark.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** A fixed "now", so the pictures change only when the console does. */
const NOW = Date.parse("2026-11-27T12:00:00.000Z");

const dataDir = mkdtempSync(join(tmpdir(), "tourniquet-screenshots-"));
const stack = await startLocalStack({
  port: 0,
  dataDir,
  inMemoryDb: true,
  env: { GITHUB_PUBLIC_KEYS_URL: undefined },
});
const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  headless: true,
  args: ["--no-sandbox"],
});
try {
  await stack.startupSweep;
  await stack.consoleBuilt;
  const leaks = await seedLeaks(stack.store, { count: 1_500, days: 30, seed: 42, now: NOW });
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
  await browser.close();
  await stack.close();
  rmSync(dataDir, { recursive: true, force: true });
}
