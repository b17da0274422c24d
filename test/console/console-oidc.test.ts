import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleContext, launchChromium, sessionItem } from "../helpers/browser.js";
import { startTestStack, type TestStack } from "../helpers/test-stack.js";

// OIDC sign-in (contract 5's deployed mode) in real Chromium against a real OpenID Provider on
// loopback (panva's oidc-provider, which requires PKCE with S256 from public clients): the console
// sends the browser to the issuer, the admin signs in there, the console redeems the code with its
// verifier through oauth4webapi and calls the admin API with the access token the issuer issued.
// The local stack's admin API accepts only its admin token (deployed, API Gateway's JWT authorizer
// checks the issuer's tokens), so the call is refused and the console returns to sign-in saying so.

const CLIENT_ID = "tourniquet-console";

let issuerServer: Server;
let issuer: string;
let provider: Provider;
let t: TestStack;
let browser: Browser;

beforeAll(async () => {
  // The issuer's port first: the stack's CONSOLE_AUTH names it, and the issuer's client names the stack.
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  issuerServer = createServer((req, res) => handle(req, res));
  await new Promise<void>((done) => issuerServer.listen(0, "127.0.0.1", done));
  issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
  t = await startTestStack({
    env: {
      CONSOLE_AUTH: JSON.stringify({
        auth: "oidc",
        issuer,
        client_id: CLIENT_ID,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        end_session_endpoint: `${issuer}/session/end`,
        scopes: ["openid", "email"],
      }),
    },
  });
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: "none",
        redirect_uris: [`${t.stack.url}/admin/callback`],
        post_logout_redirect_uris: [`${t.stack.url}/admin/`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.test`, email_verified: true }),
    }),
    // The console calls the token endpoint from its own origin.
    clientBasedCORS: () => true,
    features: { devInteractions: { enabled: true } },
  });
  handle = provider.callback();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await new Promise((done) => issuerServer?.close(done));
});

describe("console OIDC sign-in", () => {
  it("signs in with the authorization code and PKCE, and sends the issuer's access token to the API", async () => {
    const context = await consoleContext(browser);
    const page = await context.newPage();
    const adminCalls: Request[] = [];
    const authorizations: URL[] = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith("/v1/admin/")) adminCalls.push(request);
      if (url.origin === issuer && url.pathname === "/auth") authorizations.push(url);
    });
    const config = await (await fetch(`${t.stack.url}/admin/config.json`)).json();
    expect(config).toMatchObject({ auth: "oidc", issuer, client_id: CLIENT_ID });

    await page.goto(`${t.stack.url}/admin/leaks?status=failed`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.origin === issuer);
    // The issuer's own pages (devInteractions) after its redirect: sign in, then consent.
    await page.locator('input[name="login"]').fill("alice");
    await page.locator('input[name="password"]').fill("any");
    await page.locator('button[type="submit"]').click();
    await page.getByRole("button", { name: "Continue" }).click();

    // Back in the console, which redeemed the code and called the API with the access token.
    await page.waitForURL((url) => url.origin === t.stack.url);
    await expect.poll(() => adminCalls.length).toBeGreaterThan(0);
    const bearer = /^Bearer (\S+)$/.exec((await adminCalls[0]?.allHeaders())?.authorization ?? "")?.[1];
    expect(bearer).toBeTruthy();
    const issued = await provider.AccessToken.find(bearer as string);
    expect(issued).toMatchObject({ accountId: "alice", clientId: CLIENT_ID });
    expect(new URL(adminCalls[0]?.url() ?? "").pathname).toBe("/v1/admin/leaks");

    // The local API refuses the issuer's token: back to sign-in, saying why; the credential is gone.
    await page.getByRole("status").filter({ hasText: "admin API refused the credential" }).waitFor();
    expect(await sessionItem(page, "tq.credential")).toBeNull();
    expect(new URL(page.url()).pathname).toBe("/admin/leaks");
    // The authorization request: code flow, S256 PKCE, a state, the console's callback.
    const params = Object.fromEntries(authorizations[0]?.searchParams ?? []);
    expect(params).toMatchObject({
      client_id: CLIENT_ID,
      response_type: "code",
      code_challenge_method: "S256",
      redirect_uri: `${t.stack.url}/admin/callback`,
      scope: "openid email",
    });
    expect(params.code_challenge).toMatch(/^[\w-]{43}$/);
    expect(params.state).toMatch(/^[\w-]{20,}$/);
    await context.close();
  });

  it("refuses a callback that this tab did not start", async () => {
    const context = await consoleContext(browser);
    const page = await context.newPage();
    await page.goto(
      `${t.stack.url}/admin/callback?code=forged&state=forged&iss=${encodeURIComponent(issuer)}`,
    );
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/no sign-in was started in this tab/);
    await context.close();
  });
});
