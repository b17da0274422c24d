import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import type { Leak } from "../lib/store/leak.js";
import { type LocalStack, startLocalStack } from "./local-stack.js";
import { type SeedOptions, seedLeaks } from "./seed-leaks.js";

// A local stack (database in memory, its own data dir) seeded with leak history, its console built,
// and Debian's Chromium to look at it: what the console bench and the screenshots start from.

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface SeededConsole {
  stack: LocalStack;
  browser: Browser;
  leaks: Leak[];
  seedMs: number;
  consoleBuildMs: number;
  close(): Promise<void>;
}

export async function startSeededConsole(seed: SeedOptions): Promise<SeededConsole> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const dataDir = mkdtempSync(join(tmpdir(), "tourniquet-console-"));
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    inMemoryDb: true,
    env: { GITHUB_PUBLIC_KEYS_URL: undefined },
  });
  const close = async (browser?: Browser) => {
    await browser?.close();
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await stack.startupSweep;
    const consoleBuildMs = await stack.consoleBuilt;
    const seedStart = performance.now();
    const leaks = await seedLeaks(stack.store, seed);
    const seedMs = performance.now() - seedStart;
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ["--no-sandbox"],
    });
    return { stack, browser, leaks, seedMs, consoleBuildMs, close: () => close(browser) };
  } catch (error) {
    await close();
    throw error;
  }
}
