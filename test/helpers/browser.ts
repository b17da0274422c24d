import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

// Real Chromium (Debian's package, not a downloaded build) driven by playwright-core, and axe-core's
// accessibility rules run inside the page.

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install Debian's chromium package (.ci/run does) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ["--no-sandbox"] });
}

/** A laptop-sized window in the given colour scheme, downloads kept. */
export async function consoleContext(
  browser: Browser,
  colorScheme: "light" | "dark" = "light",
): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    colorScheme,
    acceptDownloads: true,
  });
  // Shorter than a test's own timeout, so a missing element fails naming what was awaited.
  context.setDefaultTimeout(10_000);
  // No call leaves loopback (a page from elsewhere, say an identity provider's, may ask for web fonts).
  await context.route(
    (url) => !LOOPBACK.has(url.hostname) && url.protocol !== "data:",
    (route) => route.abort("blockedbyclient"),
  );
  return context;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * axe-core's WCAG 2.x A/AA rules on the page as it is now; the serious and critical violations. The
 * script is evaluated through the DevTools protocol, which the page's CSP does not govern.
 */
export async function seriousViolations(page: Page, include?: string): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async (context) => {
    // The page's globals: axe from the script evaluated above.
    const inPage = globalThis as unknown as {
      axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> };
      document: unknown;
    };
    const result = await inPage.axe.run(context ?? inPage.document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    });
    return result.violations;
  }, include ?? null);
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      ...v,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
}

/** The page's sessionStorage item (the test's tsconfig has no DOM types: the page's globals, typed here). */
export function sessionItem(page: Page, key: string): Promise<string | null> {
  return page.evaluate(
    (k) =>
      (
        globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }
      ).sessionStorage.getItem(k),
    key,
  );
}

/** The focused element's id and text. */
export function focusedElement(page: Page): Promise<{ id: string; text: string }> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as {
      document: { activeElement: { id: string; textContent: string | null } | null };
    };
    return { id: document.activeElement?.id ?? "", text: document.activeElement?.textContent ?? "" };
  });
}
