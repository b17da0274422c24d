import { generateKeyPairSync } from "node:crypto";
import { parseConfig } from "../../lib/config.js";
import { SandboxGithubApi } from "../../local/sandbox/sandbox-github-api.js";
import { type LoopbackServer, serve } from "./loopback-server.js";

// GitHub's REST API as a GitHub App sees it (installation tokens, secret scanning alerts and their
// locations), on 127.0.0.1: the local stack's sandbox fake, served alone, with its own App key pair.

export const FAKE_APP_ID = "4242";

export interface FakeGithubApi {
  /** Base URL, as the config's github_app.api_url. */
  url: string;
  api: SandboxGithubApi;
  /** The App's private key (PKCS#1 PEM, as GitHub hands it out). */
  appPrivateKey: string;
  close(): Promise<void>;
}

export async function startFakeGithubApi(
  options: { now?: () => number; revokeLimitPerHour?: number } = {},
): Promise<FakeGithubApi> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const appPrivateKey = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const api = new SandboxGithubApi({
    appId: FAKE_APP_ID,
    appPrivateKey,
    now: options.now,
    revokeLimitPerHour: options.revokeLimitPerHour,
  });
  const server: LoopbackServer = await serve((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    void api.handle(req, res, path);
  });
  return { url: server.url, api, appPrivateKey, close: () => server.close() };
}

/** A config whose `github_app` is the fake's App, with `webhookSecret`; `extra` adds other sections. */
export function fakeAppConfig(gh: FakeGithubApi, webhookSecret: string, extra: Record<string, unknown> = {}) {
  return parseConfig(
    {
      github_app: {
        app_id: Number(FAKE_APP_ID),
        private_key: { env: "APP_KEY" },
        webhook_secret: { env: "HOOK_SECRET" },
        api_url: gh.url,
      },
      ...extra,
    },
    { APP_KEY: gh.appPrivateKey, HOOK_SECRET: webhookSecret },
  );
}
