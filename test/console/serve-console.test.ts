import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminConsoleHandler } from "../../functions/admin-console.js";
import { parseConsoleAuth } from "../../lib/console/console-auth.js";
import { directoryFiles } from "../../lib/console/console-files.js";
import { ConfigError } from "../../lib/errors.js";
import { silentLog } from "../../lib/log.js";
import { apiEvent, lambdaContext } from "../helpers/lambda-events.js";

// The console's Lambda handler as API Gateway calls it (GET /admin, GET /admin/{proxy+}) over a built
// console in a directory, as the function's asset holds it.

const OIDC = {
  auth: "oidc",
  issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123",
  client_id: "console-client",
  authorization_endpoint: "https://tq-admins.auth.eu-west-1.amazoncognito.com/oauth2/authorize",
  token_endpoint: "https://tq-admins.auth.eu-west-1.amazoncognito.com/oauth2/token",
  scopes: ["openid", "email"],
};

let root: string;
let dir: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tq-console-"));
  dir = join(root, "console");
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>console</title>");
  writeFileSync(join(dir, "assets", "main-ABC123.js"), "console.log(1)");
  writeFileSync(join(dir, "assets", "main-ABC123.css"), "body{}");
  writeFileSync(join(dir, "assets", "logo-XYZ.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]));
  // Beside the console, not in it: what a traversal would reach.
  writeFileSync(join(root, "secret.json"), '{"secret":true}');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function handlerWith(auth = parseConsoleAuth(undefined)) {
  return createAdminConsoleHandler(async () => ({ files: directoryFiles(dir), auth }), silentLog);
}

async function get(path: string, auth?: ReturnType<typeof parseConsoleAuth>) {
  const routeKey = path === "/admin" ? "GET /admin" : "GET /admin/{proxy+}";
  const result = await handlerWith(auth)(apiEvent(routeKey, { path }), lambdaContext("AdminConsole"));
  const headers = (result.headers ?? {}) as Record<string, string>;
  return { ...result, headers, status: result.statusCode ?? 200 };
}

describe("admin-console handler", () => {
  it("serves index.html at /admin/ without caching, under a strict CSP", async () => {
    const page = await get("/admin/");
    expect(page.status).toBe(200);
    expect(page.body).toContain("<title>console</title>");
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["cache-control"]).toBe("no-cache");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    const csp = page.headers["content-security-policy"];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toMatch(/connect-src 'self';/);
  });

  it("answers /admin itself with the page: deployed, it is the route that surely reaches the console", async () => {
    const answer = await get("/admin");
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(answer.body).toContain("<title>console</title>");
  });

  it("answers client-side routes with index.html", async () => {
    for (const path of ["/admin/leaks", "/admin/leaks/lk_0123456789abcdef01234567", "/admin/callback"]) {
      const page = await get(path);
      expect(page.status, path).toBe(200);
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(page.body).toContain("<title>console</title>");
    }
  });

  it("serves hashed assets with their types and a year of immutable caching", async () => {
    const js = await get("/admin/assets/main-ABC123.js");
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(js.body).toBe("console.log(1)");
    const css = await get("/admin/assets/main-ABC123.css");
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    const png = await get("/admin/assets/logo-XYZ.png");
    expect(png.headers["content-type"]).toBe("image/png");
    expect(png.isBase64Encoded).toBe(true);
    expect(Buffer.from(png.body ?? "", "base64")).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]),
    );
  });

  it("answers a missing asset with 404, not the page", async () => {
    const missing = await get("/admin/assets/main-OLD.js");
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body ?? "")).toMatchObject({ error: "not_found" });
    expect((await get("/admin/unknown.exe")).status).toBe(404);
  });

  it("refuses paths that try to leave the console", async () => {
    for (const path of [
      "/admin/../secret.json",
      "/admin/assets/../../secret.json",
      "/admin/%2e%2e/secret.json",
      "/admin/assets/%2E%2E%2F%2E%2E%2Fsecret.json",
      "/admin/..%5csecret.json",
      "/admin/assets%00/x.js",
    ]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(400);
      expect(JSON.parse(answer.body ?? "")).toMatchObject({ error: "bad_request" });
      expect(answer.body).not.toContain('secret":true');
    }
    const badEncoding = await get("/admin/%E0%A4%A");
    expect(badEncoding.status).toBe(400);
    expect(JSON.parse(badEncoding.body ?? "").message).toMatch(/percent-encoding/);
  });

  it("answers a path outside /admin/ with 404", async () => {
    const answer = await handlerWith()(
      apiEvent("GET /admin/{proxy+}", { path: "/adminx/a" }),
      lambdaContext("AdminConsole"),
    );
    expect(answer.statusCode).toBe(404);
  });

  it("tells the page to ask for the admin token when CONSOLE_AUTH is unset", async () => {
    const config = await get("/admin/config.json");
    expect(config.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(config.headers["cache-control"]).toBe("no-cache");
    expect(JSON.parse(config.body ?? "")).toEqual({ auth: "token" });
  });

  it("tells the page the OIDC issuer and lets the CSP reach it", async () => {
    const auth = parseConsoleAuth(JSON.stringify(OIDC));
    const config = await get("/admin/config.json", auth);
    expect(JSON.parse(config.body ?? "")).toEqual({ ...OIDC, token: "access_token" });
    const csp = config.headers["content-security-policy"];
    expect(csp).toContain(
      "connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com https://tq-admins.auth.eu-west-1.amazoncognito.com",
    );
    expect(csp).toContain("form-action 'self' https://cognito-idp.eu-west-1.amazonaws.com");
  });

  it("fails for a missing build with a 404 naming it", async () => {
    const empty = mkdtempSync(join(tmpdir(), "tq-console-empty-"));
    const handler = createAdminConsoleHandler(
      async () => ({ files: directoryFiles(empty), auth: parseConsoleAuth(undefined) }),
      silentLog,
    );
    const answer = await handler(
      apiEvent("GET /admin/{proxy+}", { path: "/admin/" }),
      lambdaContext("AdminConsole"),
    );
    expect(answer.statusCode).toBe(404);
    expect(answer.body).toMatch(/not built/);
    rmSync(empty, { recursive: true, force: true });
  });
});

describe("parseConsoleAuth", () => {
  it("presents the access token unless told to present the ID token", () => {
    expect(parseConsoleAuth(JSON.stringify(OIDC))).toMatchObject({ token: "access_token" });
    expect(parseConsoleAuth(JSON.stringify({ ...OIDC, token: "id_token" }))).toMatchObject({
      token: "id_token",
    });
    expect(() => parseConsoleAuth(JSON.stringify({ ...OIDC, token: "refresh_token" }))).toThrow(/token/);
  });

  it("takes a stage without a console client, with the reason the page shows", async () => {
    const auth = parseConsoleAuth(JSON.stringify({ auth: "none", reason: "set jwt.console" }));
    expect(auth).toEqual({ auth: "none", reason: "set jwt.console" });
    expect(() => parseConsoleAuth(JSON.stringify({ auth: "none" }))).toThrow(/reason/);
  });

  it("defaults scopes to openid and email", () => {
    const { scopes: _, ...withoutScopes } = OIDC;
    expect(parseConsoleAuth(JSON.stringify(withoutScopes))).toMatchObject({ scopes: ["openid", "email"] });
  });

  it("accepts plain HTTP only on loopback", () => {
    const local = { ...OIDC, issuer: "http://127.0.0.1:4000", token_endpoint: "http://localhost:4000/token" };
    expect(parseConsoleAuth(JSON.stringify(local))).toMatchObject({ issuer: "http://127.0.0.1:4000" });
    expect(() =>
      parseConsoleAuth(JSON.stringify({ ...OIDC, token_endpoint: "http://idp.example/token" })),
    ).toThrow(/token_endpoint: must be an https URL/);
  });

  it("names what is wrong", () => {
    expect(() => parseConsoleAuth("{")).toThrow(ConfigError);
    expect(() => parseConsoleAuth("{")).toThrow(/CONSOLE_AUTH is not JSON/);
    expect(() => parseConsoleAuth('{"auth":"saml"}')).toThrow(/CONSOLE_AUTH is invalid/);
    expect(() => parseConsoleAuth(JSON.stringify({ ...OIDC, client_id: "" }))).toThrow(/client_id/);
    expect(() => parseConsoleAuth(JSON.stringify({ ...OIDC, extra: 1 }))).toThrow(/extra/);
  });
});
