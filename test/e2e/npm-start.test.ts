import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { loadDevSigningKey, signPartnerReport } from "../../local/dev-signing-key.js";
import { readJson, SANDBOX_TYPE } from "../helpers/test-stack.js";

// The local stack as a newcomer runs it: `npm start`'s command in its own process, with no settings
// but a free port and a data dir, the real JSON logger on stdout, and the CLI against it.

const TSX = join(process.cwd(), "node_modules/.bin/tsx");
const dataDir = mkdtempSync(join(tmpdir(), "tourniquet-start-"));
let server: ChildProcess;
let url = "";
let output = "";

beforeAll(async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: "0", TOURNIQUET_DATA_DIR: dataDir };
  delete env.TOURNIQUET_ADMIN_TOKEN;
  delete env.TOURNIQUET_CONFIG;
  // One process (node with tsx's loader), so killing it leaves no child behind.
  server = spawn(process.execPath, ["--import", "tsx", "local/main.ts"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Tourniquet local stack on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    server.stdout?.on("data", onData);
    server.stderr?.on("data", onData);
    server.once("exit", (code) => reject(new Error(`npm start exited with ${code}: ${output}`)));
  });
}, 60_000);

afterAll(() => {
  server.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

describe("npm start", () => {
  it("serves health, the sandbox, partner reports and the admin API with no configuration", async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const key = await readJson(await fetch(`${url}/sandbox/keys`, { method: "POST" }));
    expect(key).toMatchObject({ token: expect.stringMatching(/^tqs_/), status: "active" });

    const body = JSON.stringify([
      { token: key.token, type: SANDBOX_TYPE, url: "https://e.example/x", source: "commit" },
    ]);
    const signing = loadDevSigningKey(join(dataDir, "dev-github-signing-key.pem"));
    const report = await fetch(`${url}/v1/github/secret-scanning`, {
      method: "POST",
      headers: { "content-type": "application/json", ...signPartnerReport(signing, body) },
      body,
    });
    expect(report.status).toBe(200);

    const adminToken = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    const auth = { authorization: `Bearer ${adminToken}` };
    let status = "";
    for (let i = 0; i < 100 && status !== "revoked"; i++) {
      const page = await readJson(
        await fetch(`${url}/v1/admin/leaks?fingerprint=${fingerprintToken(key.token)}`, { headers: auth }),
      );
      status = page.items[0]?.status ?? "";
      if (status !== "revoked") await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe("revoked");
    expect((await fetch(`${url}/v1/admin/leaks`)).status).toBe(401);

    // The console's link signs the browser in with the admin token; the page itself is public.
    expect(output).toContain(`admin console    ${url}/admin/#token=${adminToken}`);
    const page = await fetch(`${url}/admin/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toContain('<div id="app">');

    // The real logger writes JSON lines; none carries the token.
    await new Promise((r) => setTimeout(r, 100));
    expect(output).toMatch(/"message":"partner report received"/);
    expect(output).not.toContain(key.token);
  });

  it("runs `tourniquet simulate` against it", async () => {
    const { stdout } = await promisify(execFile)(TSX, ["bin/tourniquet.ts", "simulate"], {
      env: { ...process.env, TOURNIQUET_URL: url, TOURNIQUET_DATA_DIR: dataDir, TOURNIQUET_ADMIN_TOKEN: "" },
    });
    expect(stdout).toMatch(/leak lk_\w+: revoked in \d+ ms/);
    expect(stdout).toMatch(/notify\s+ok\s+owner owner@example.test notified/);
  });

  it("runs `tourniquet simulate --app` against it, signing with the App's webhook secret from the data dir", async () => {
    const { stdout } = await promisify(execFile)(TSX, ["bin/tourniquet.ts", "simulate", "--app"], {
      env: {
        ...process.env,
        TOURNIQUET_URL: url,
        TOURNIQUET_DATA_DIR: dataDir,
        TOURNIQUET_ADMIN_TOKEN: "",
        TOURNIQUET_GITHUB_WEBHOOK_SECRET: "",
      },
    });
    expect(stdout).toMatch(/webhook [0-9a-f-]{36} accepted \(202\)/);
    expect(stdout).toMatch(/leak lk_\w+: revoked in \d+ ms/);
    expect(stdout).toMatch(/in GitHub: resolved \(revoked\)/);
  });

  it("runs `tourniquet simulate --type azure_openai_key` against its own fake Azure", async () => {
    const { stdout } = await promisify(execFile)(
      TSX,
      ["bin/tourniquet.ts", "simulate", "--type", "azure_openai_key"],
      {
        env: {
          ...process.env,
          TOURNIQUET_URL: url,
          TOURNIQUET_DATA_DIR: dataDir,
          TOURNIQUET_ADMIN_TOKEN: "",
        },
      },
    );
    expect(stdout).toMatch(/issued Azure OpenAI key Key1 of account demo-openai-\w+/);
    expect(stdout).toMatch(/leak lk_\w+: revoked in \d+ ms/);
    expect(stdout).toMatch(/revoke\s+ok\s+issuer azure revoked key \/subscriptions\/.+#Key1/);
    expect(stdout).toMatch(/unusual last 24 h: YES/);
    // The fake's certificate was made on first start, into the data dir.
    expect(readFileSync(join(dataDir, "sandbox-azure-cert.pem"), "utf8")).toMatch(/BEGIN CERTIFICATE/);
  }, 60_000);

  it("refuses an unknown simulate type with the types it knows", async () => {
    const run = promisify(execFile)(TSX, ["bin/tourniquet.ts", "simulate", "--type", "nope_key"], {
      env: { ...process.env, TOURNIQUET_URL: url, TOURNIQUET_DATA_DIR: dataDir },
    });
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/azure_openai_key/) });
  });
});
