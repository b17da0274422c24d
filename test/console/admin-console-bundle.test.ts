import { mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLING, esbuildOptions } from "../../infra/function-bundles.js";
import { buildConsole } from "../../lib/console/build-console.js";
import { REPO_ROOT } from "../helpers/bundles.js";
import { apiEvent, lambdaContext } from "../helpers/lambda-events.js";

// functions/admin-console.ts bundled as the stack bundles every function (infra/function-bundles.ts),
// with the built console under console/ beside index.mjs, as its asset will hold it; loaded with Node's
// own import() (under node_modules/, which vitest does not transform) and called as API Gateway calls
// it. No CONSOLE_DIR: the handler finds the console beside its bundle.

type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

let workDir: string;
let handler: ApiHandler;
const savedConsoleDir = process.env.CONSOLE_DIR;

beforeAll(async () => {
  workDir = mkdtempSync(join(REPO_ROOT, "node_modules", ".tourniquet-console-bundle-"));
  const dir = join(workDir, "AdminConsole");
  await build({
    ...esbuildOptions(resolve(REPO_ROOT, "functions/admin-console.ts"), dir),
    absWorkingDir: REPO_ROOT,
  });
  await buildConsole(join(dir, "console"));
  delete process.env.CONSOLE_DIR;
  handler = (await import(pathToFileURL(join(dir, BUNDLING.entryFile)).href)).handler as ApiHandler;
}, 60_000);

afterAll(() => {
  if (savedConsoleDir !== undefined) process.env.CONSOLE_DIR = savedConsoleDir;
  rmSync(workDir, { recursive: true, force: true });
});

const serve = async (path: string) => {
  const result = await handler(
    apiEvent(path === "/admin" ? "GET /admin" : "GET /admin/{proxy+}", { path }),
    lambdaContext("AdminConsole"),
  );
  return { ...result, headers: (result.headers ?? {}) as Record<string, string> };
};

describe("admin-console bundle", () => {
  it("serves the page, its assets and config.json from console/ beside the bundle", async () => {
    const page = await serve("/admin/leaks");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<div id="app">');
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    const script = /src="\/admin\/(assets\/[^"]+\.js)"/.exec(page.body ?? "")?.[1];
    const asset = await serve(`/admin/${script}`);
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(asset.headers["cache-control"]).toContain("immutable");
    expect(JSON.parse((await serve("/admin/config.json")).body ?? "")).toEqual({ auth: "token" });
    expect((await serve("/admin/../index.mjs")).statusCode).toBe(400);
  });
});
