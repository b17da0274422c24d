import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLog } from "../../lib/log.js";
import { startLocalStack } from "../../local/local-stack.js";

// `npm start`'s server while the stack starts: it takes its port before the engine and the handlers are
// ready, so a request then must be told to retry, never left waiting; a start that fails frees the port.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "tq-startup-"));
  dirs.push(dir);
  return dir;
};

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe("the local stack while it starts", () => {
  it("answers 503 with Retry-After until it is ready, and never leaves a request waiting", async () => {
    const port = await freePort();
    let ready = false;
    const starting = startLocalStack({ port, dataDir: dataDir(), log: silentLog }).then((stack) => {
      ready = true;
      return stack;
    });
    const answers: { status: number; retryAfter: string | null; error?: string }[] = [];
    while (!ready) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`, {
          signal: AbortSignal.timeout(2_000),
        });
        const body = (await response.json()) as { error?: string };
        answers.push({
          status: response.status,
          retryAfter: response.headers.get("retry-after"),
          error: body.error,
        });
      } catch (error) {
        // Not listening yet; a request that hangs is the failure this test is about.
        expect((error as Error).name).not.toBe("TimeoutError");
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const stack = await starting;
    try {
      const early = answers.filter((a) => a.status !== 200);
      expect(early.length).toBeGreaterThan(0);
      expect(early.every((a) => a.status === 503 && a.retryAfter === "1" && a.error === "starting")).toBe(
        true,
      );
      expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
    } finally {
      await stack.close();
    }
  });

  it("frees its port when the start fails after taking it", async () => {
    const port = await freePort();
    const dir = dataDir();
    const config = join(dir, "broken.json");
    writeFileSync(config, JSON.stringify({ token_types: { t: { issuer: "missing" } } }));
    await expect(
      startLocalStack({ port, dataDir: dir, log: silentLog, env: { TOURNIQUET_CONFIG: config } }),
    ).rejects.toThrow(/missing/);
    const again = createServer();
    await new Promise<void>((done, fail) => {
      again.once("error", fail);
      again.listen(port, "127.0.0.1", done);
    });
    await new Promise((done) => again.close(done));
  });
});
