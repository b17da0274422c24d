import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  checkConfig,
  checkConfigFile,
  configJsonSchema,
  interpolateEnv,
  loadConfig,
  parseConfig,
  policyFor,
} from "../lib/config.js";
import { ConfigError } from "../lib/errors.js";
import { EXAMPLE_CONFIG_ENV } from "./helpers/example-config-env.js";
import { fieldsNotShown } from "./helpers/schema-fields.js";

// The config file: the shipped files parse, defaults apply, ${VAR} interpolation, and every mistake
// stops the service with a ConfigError naming the field.

const repoFile = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

const tmp = mkdtempSync(join(tmpdir(), "tourniquet-config-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeTmp(name: string, content: string): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

const ENV = { SANDBOX_SECRET: "s3cret" };
const minimal = () => ({
  issuers: {
    sandbox: { kind: "http", url: "http://127.0.0.1:3000/sandbox", secret: { env: "SANDBOX_SECRET" } },
  },
  token_types: { tourniquet_sandbox_token: { issuer: "sandbox" } },
});

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.unreachable("config should have been rejected");
}

/** The local config's GitHub App secrets, which the local stack generates into its data dir. */
const LOCAL_APP_ENV = {
  TOURNIQUET_GITHUB_WEBHOOK_SECRET: "w",
  TOURNIQUET_GITHUB_APP_PRIVATE_KEY: "k",
  TOURNIQUET_SANDBOX_AZURE_SECRET: "az",
  TOURNIQUET_SANDBOX_OPENAI_ADMIN_KEY: "sk-admin-local",
  TOURNIQUET_SANDBOX_SLACK_BOT_TOKEN: "xoxb-local",
};

describe("shipped config files", () => {
  it("config/local.json parses with its secret set, using PORT's default", () => {
    const config = loadConfig(repoFile("config/local.json"), {
      TOURNIQUET_SANDBOX_SECRET: "local",
      ...LOCAL_APP_ENV,
    });
    expect(config.issuers.sandbox).toMatchObject({ url: "http://127.0.0.1:3000/sandbox" });
    expect(config.github_app?.api_url).toBe("http://127.0.0.1:3000/sandbox/github/api");
    expect(config.githubAppSecrets).toEqual({ webhookSecret: "w", privateKey: "k" });
    expect(config.token_types.tourniquet_sandbox_token?.issuer).toBe("sandbox");
    expect(config.secrets).toEqual({
      sandbox: "local",
      azure: "az",
      openai: "sk-admin-local",
      slack: "xoxb-local",
    });
  });

  it("config/local.json routes Azure AI keys to the local fake Azure the stack names", () => {
    const config = loadConfig(repoFile("config/local.json"), {
      TOURNIQUET_SANDBOX_SECRET: "x",
      ...LOCAL_APP_ENV,
      TOURNIQUET_SANDBOX_AZURE_URL: "https://127.0.0.1:4443",
    });
    expect(config.issuers.azure).toMatchObject({
      kind: "azure_ai",
      authority_url: "https://127.0.0.1:4443",
      management_url: "https://127.0.0.1:4443",
    });
    for (const type of ["azure_openai_key", "azure_ai_services_key", "azure_cognitive_services_key"])
      expect(config.token_types[type]?.issuer).toBe("azure");
  });

  it("config/local.json routes OpenAI keys to the fake OpenAI on the stack's own port", () => {
    const config = loadConfig(repoFile("config/local.json"), {
      TOURNIQUET_SANDBOX_SECRET: "x",
      ...LOCAL_APP_ENV,
      PORT: "4123",
    });
    expect(config.issuers.openai).toMatchObject({
      kind: "openai",
      api_url: "http://127.0.0.1:4123/sandbox/openai/v1",
      timeout_ms: 5_000,
    });
    expect(config.token_types.openai_api_key?.issuer).toBe("openai");
    expect(config.secrets.openai).toBe("sk-admin-local");
  });

  it("config/local.json follows PORT when it is set", () => {
    const config = loadConfig(repoFile("config/local.json"), {
      TOURNIQUET_SANDBOX_SECRET: "x",
      ...LOCAL_APP_ENV,
      PORT: "4123",
    });
    expect(config.issuers.sandbox).toMatchObject({ url: "http://127.0.0.1:4123/sandbox" });
    expect(config.notifications.admin_url).toBe("http://127.0.0.1:4123/admin/leaks");
  });

  it("config/tourniquet.example.json parses with its documented variables set", () => {
    const config = loadConfig(repoFile("config/tourniquet.example.json"), EXAMPLE_CONFIG_ENV);
    expect(config.github_app).toMatchObject({ app_id: "123456", api_url: "https://api.github.com" });
    expect(config.issuers.github).toMatchObject({ api_url: "https://api.github.com" });
    expect(config.issuers["acme-keys"]).toMatchObject({ timeout_ms: 4_000 });
    expect(config.secrets).toEqual({
      "acme-keys": "acme-hmac",
      azure: "azure-client-secret",
      slack: "xoxb-example",
      openai: "sk-admin-example",
    });
    expect(Object.keys(config.channelSecrets).sort()).toEqual(["owner-webhook", "relay", "team-slack"]);
    expect(config.githubAppSecrets?.previousWebhookSecret).toBe("old-hook");
  });

  it("config/tourniquet.example.json shows every field of the schema, and every kind of issuer and channel", () => {
    const example = JSON.parse(readFileSync(repoFile("config/tourniquet.example.json"), "utf8"));
    expect(fieldsNotShown(configJsonSchema(), example)).toEqual([]);
    // The walk does see a field left out, and a kind no entry shows.
    delete example.intake.max_matches;
    example.issuers.openai.kind = "github";
    delete example.issuers.openai.admin_key;
    expect(fieldsNotShown(configJsonSchema(), example)).toEqual([
      "$.intake.max_matches",
      "$.issuers.*[openai]",
    ]);
  });

  it("config/local.json without its secret names the missing variable", () => {
    const error = configError(() => loadConfig(repoFile("config/local.json"), {}));
    expect(error.message).toContain("issuers.sandbox.secret");
    expect(error.message).toContain("TOURNIQUET_SANDBOX_SECRET");
  });
});

describe("defaults", () => {
  it("fills every optional section", () => {
    const config = parseConfig(minimal(), ENV);
    expect(config.issuers.sandbox).toMatchObject({ timeout_ms: 5_000 });
    expect(config.intake).toEqual({
      inline_verify_budget_ms: 3_000,
      max_body_bytes: 4 * 1024 * 1024,
      concurrency: 16,
      max_matches: 100_000,
      inline_max_tokens: 1_000,
      record_budget_ms: 5_000,
      reverify_after_ms: 3_600_000,
    });
    expect(config.remediation).toEqual({ max_receives: 5, step_attempts: 3, step_backoff_ms: 200 });
    expect(config.notifications).toEqual({ channels: { email: { kind: "outbox", format: "email" } } });
    expect(config.defaults).toEqual({
      mode: "revoke",
      channels: ["email"],
      copy_security_contact: "failures",
      resolve_false_positive_alerts: false,
    });
    expect(config.allowlist).toEqual([]);
    expect(config.owners).toEqual({});
  });

  it("accepts an empty file as a config with no issuers or token types", () => {
    const config = parseConfig({}, {});
    expect(config.issuers).toEqual({});
    expect(config.token_types).toEqual({});
    expect(config.secrets).toEqual({});
  });

  it("keeps a partial section's given values and defaults the rest", () => {
    const config = parseConfig({ ...minimal(), intake: { concurrency: 4 } }, ENV);
    expect(config.intake.concurrency).toBe(4);
    expect(config.intake.inline_verify_budget_ms).toBe(3_000);
  });

  it("never resolves false positives' GitHub alerts unless a policy says so", () => {
    const withTypes = (defaults: Record<string, unknown>) =>
      parseConfig(
        {
          ...minimal(),
          token_types: {
            tourniquet_sandbox_token: { issuer: "sandbox" },
            noisy_token: { issuer: "sandbox", resolve_false_positive_alerts: true },
            quiet_token: { issuer: "sandbox", resolve_false_positive_alerts: false },
          },
          defaults,
        },
        ENV,
      );
    const off = withTypes({});
    expect(policyFor(off, "tourniquet_sandbox_token").resolve_false_positive_alerts).toBe(false);
    expect(policyFor(off, "unconfigured_type").resolve_false_positive_alerts).toBe(false);
    expect(policyFor(off, "noisy_token").resolve_false_positive_alerts).toBe(true);
    const on = withTypes({ resolve_false_positive_alerts: true });
    expect(policyFor(on, "tourniquet_sandbox_token").resolve_false_positive_alerts).toBe(true);
    expect(policyFor(on, "quiet_token").resolve_false_positive_alerts).toBe(false);
    expect(() => withTypes({ resolve_false_positive_alerts: "yes" })).toThrow(
      /defaults\.resolve_false_positive_alerts/,
    );
  });
});

describe("environment interpolation", () => {
  /** `${inner}`, the config file's placeholder syntax. */
  const ref = (inner: string) => `\${${inner}}`;

  it("replaces VAR and VAR-with-default placeholders anywhere in strings, nested or in arrays", () => {
    const env = { HOST: "keys.test", PORT: undefined };
    expect(
      interpolateEnv(
        { a: [`https://${ref("HOST")}:${ref("PORT:-8443")}/x`], b: { c: ref("HOST") }, n: 5 },
        env,
      ),
    ).toEqual({
      a: ["https://keys.test:8443/x"],
      b: { c: "keys.test" },
      n: 5,
    });
  });

  it("prefers the variable's value over the default", () => {
    expect(interpolateEnv(ref("PORT:-3000"), { PORT: "9000" })).toBe("9000");
  });

  it("uses the default when the variable is set but empty, like the shell", () => {
    expect(interpolateEnv(ref("PORT:-3000"), { PORT: "" })).toBe("3000");
  });

  it("allows an empty default", () => {
    expect(interpolateEnv(`a${ref("SUFFIX:-")}b`, {})).toBe("ab");
  });

  it("leaves strings without placeholders, and lowercase names, alone", () => {
    const text = `$HOME and ${ref("lower")}`;
    expect(interpolateEnv(text, {})).toBe(text);
  });

  it("names a missing variable and where it was used", () => {
    const raw = minimal();
    raw.issuers.sandbox.url = `https://${ref("ISSUER_HOST")}/tourniquet`;
    const error = configError(() => parseConfig(raw, ENV));
    expect(error.message).toContain("ISSUER_HOST");
    expect(error.message).toContain("issuers.sandbox.url");
  });
});

describe("invalid configs name the field", () => {
  it.each([
    ["at the root", { extra: true }, "(root)", "extra"],
    ["in intake", { intake: { max_body_size: 1 } }, "intake", "max_body_size"],
    [
      "in an issuer",
      { issuers: { sandbox: { ...minimal().issuers.sandbox, retries: 3 } } },
      "issuers.sandbox",
      "retries",
    ],
  ])("rejects an unknown field %s, naming its path and key", (_name, patch, path, key) => {
    const error = configError(() => parseConfig({ ...minimal(), ...patch }, ENV));
    expect(error.message).toContain(`  - ${path}: `);
    expect(error.message).toContain(`"${key}"`);
  });

  it("rejects a token type naming an undefined issuer", () => {
    const raw = { ...minimal(), token_types: { acme_api_key: { issuer: "acme" } } };
    const error = configError(() => parseConfig(raw, ENV));
    expect(error.message).toContain("token_types.acme_api_key.issuer");
    expect(error.message).toContain('"acme"');
  });

  it("rejects token types that differ only in case", () => {
    const raw = {
      ...minimal(),
      token_types: { acme_api_key: { issuer: "sandbox" }, ACME_API_KEY: { issuer: "sandbox" } },
    };
    const error = configError(() => parseConfig(raw, ENV));
    expect(error.message).toContain("token_types.ACME_API_KEY");
    expect(error.message).toMatch(/case-insensitive/);
  });

  it.each([
    ["missing", {}],
    ["empty", { SANDBOX_SECRET: "" }],
  ])("rejects an issuer whose secret variable is %s", (_name, env) => {
    const error = configError(() => parseConfig(minimal(), env));
    expect(error.message).toContain("issuers.sandbox.secret");
    expect(error.message).toContain("SANDBOX_SECRET");
  });

  it("rejects a secret written into the file instead of an env reference", () => {
    const raw = minimal();
    (raw.issuers.sandbox as { secret: unknown }).secret = "plain-text-secret";
    expect(configError(() => parseConfig(raw, ENV)).message).toContain("issuers.sandbox.secret");
  });

  it("defaults max_body_bytes to 4 MiB and refuses a maximum Lambda cannot take base64-encoded", () => {
    expect(parseConfig(minimal(), ENV).intake.max_body_bytes).toBe(4 * 1024 * 1024);
    // (6 MiB event - 64 KiB envelope) / 4 * 3: the largest body whose base64 still fits the event.
    const ok = parseConfig({ ...minimal(), intake: { max_body_bytes: 4_669_440 } }, ENV);
    expect(ok.intake.max_body_bytes).toBe(4_669_440);

    for (const tooBig of [4_669_441, 5 * 1024 * 1024, 10 * 1024 * 1024]) {
      const raw = { ...minimal(), intake: { max_body_bytes: tooBig } };
      const message = configError(() => parseConfig(raw, ENV)).message;
      expect(message).toContain("intake.max_body_bytes");
      expect(message).toContain("at most 4669440");
      expect(message).toMatch(/Lambda's 6 MB/);
    }
  });

  it("rejects an issuer url that is not http(s)", () => {
    const raw = minimal();
    raw.issuers.sandbox.url = "ftp://keys.test/";
    expect(configError(() => parseConfig(raw, ENV)).message).toContain("issuers.sandbox.url");
  });

  it("lists every problem at once", () => {
    const raw = { ...minimal(), intake: { concurrency: 0 }, remediation: { max_receives: 99 } };
    const { message } = configError(() => parseConfig(raw, ENV));
    expect(message).toContain("intake.concurrency");
    expect(message).toContain("remediation.max_receives");
  });
});

describe("loading the file", () => {
  it("names the path of a missing file", () => {
    const path = join(tmp, "does-not-exist.json");
    const error = configError(() => loadConfig(path, ENV));
    expect(error.message).toContain(path);
  });

  it("names the path of a file that is not JSON", () => {
    const path = writeTmp("broken.json", '{"issuers": {');
    const error = configError(() => loadConfig(path, ENV));
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/not valid JSON/);
  });

  it("names the path of a file with an invalid field", () => {
    const path = writeTmp("invalid.json", JSON.stringify({ intake: { concurrency: "many" } }));
    const error = configError(() => loadConfig(path, ENV));
    expect(error.message).toContain(path);
    expect(error.message).toContain("intake.concurrency");
  });

  it("loads a valid file written elsewhere", () => {
    const path = writeTmp("valid.json", JSON.stringify(minimal()));
    expect(loadConfig(path, ENV).secrets).toEqual({ sandbox: "s3cret" });
  });
});

describe("github_app", () => {
  const APP_ENV = { ...ENV, APP_KEY: "pem", HOOK_SECRET: "hook" };
  const withApp = (app: Record<string, unknown>) => ({
    ...minimal(),
    github_app: { private_key: { env: "APP_KEY" }, webhook_secret: { env: "HOOK_SECRET" }, ...app },
  });

  it("is optional: without it there are no App secrets", () => {
    const config = parseConfig(minimal(), ENV);
    expect(config.github_app).toBeUndefined();
    expect(config.githubAppSecrets).toBeUndefined();
  });

  it("resolves both secrets, keeps the App id as a string and defaults the API to api.github.com", () => {
    const config = parseConfig(withApp({ app_id: 42 }), APP_ENV);
    expect(config.github_app).toMatchObject({ app_id: "42", api_url: "https://api.github.com" });
    expect(config.githubAppSecrets).toEqual({ privateKey: "pem", webhookSecret: "hook" });
    expect(parseConfig(withApp({ app_id: "Iv23liABC" }), APP_ENV).github_app?.app_id).toBe("Iv23liABC");
  });

  it("resolves previous_webhook_secret, the secret being rotated out, when it is given", () => {
    const raw = withApp({ app_id: 42, previous_webhook_secret: { env: "OLD_HOOK_SECRET" } });
    expect(parseConfig(raw, { ...APP_ENV, OLD_HOOK_SECRET: "old" }).githubAppSecrets).toEqual({
      privateKey: "pem",
      webhookSecret: "hook",
      previousWebhookSecret: "old",
    });
    const error = configError(() => parseConfig(raw, APP_ENV));
    expect(error.message).toContain(
      "github_app.previous_webhook_secret: environment variable OLD_HOOK_SECRET is not set",
    );
  });

  it("names a missing secret variable", () => {
    const error = configError(() => parseConfig(withApp({ app_id: 42 }), ENV));
    expect(error.message).toContain("github_app.private_key: environment variable APP_KEY is not set");
  });

  it("allows plain http only to loopback", () => {
    expect(
      parseConfig(withApp({ app_id: 1, api_url: "http://127.0.0.1:3000/sandbox/github/api" }), APP_ENV)
        .github_app?.api_url,
    ).toBe("http://127.0.0.1:3000/sandbox/github/api");
    const error = configError(() =>
      parseConfig(withApp({ app_id: 1, api_url: "http://github.example.com/api/v3" }), APP_ENV),
    );
    expect(error.message).toContain("github_app.api_url: must use https");
  });

  it("names a bad App id, a missing field and an unknown one", () => {
    const error = configError(() =>
      parseConfig(
        { ...minimal(), github_app: { app_id: "x y", webhook_secret: "inline", extra: 1 } },
        APP_ENV,
      ),
    );
    expect(error.message).toContain("github_app.app_id");
    expect(error.message).toContain("github_app.private_key");
    expect(error.message).toContain("github_app.webhook_secret");
    expect(error.message).toMatch(/github_app.*extra/);
  });
});

describe("azure_ai issuer", () => {
  const SUB = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  const azure = (fields: Record<string, unknown> = {}) => ({
    issuers: {
      azure: {
        kind: "azure_ai",
        tenant_id: "t",
        client_id: "c",
        client_secret: { env: "AZURE_CLIENT_SECRET" },
        subscriptions: [SUB],
        ...fields,
      },
    },
    token_types: { azure_openai_key: { issuer: "azure" } },
  });
  const env = { AZURE_CLIENT_SECRET: "az-secret" };

  it("defaults the public cloud's endpoints and the owner tags, and resolves the client secret", () => {
    const config = parseConfig(azure(), env);
    expect(config.issuers.azure).toEqual({
      kind: "azure_ai",
      tenant_id: "t",
      client_id: "c",
      client_secret: { env: "AZURE_CLIENT_SECRET" },
      subscriptions: [SUB],
      authority_url: "https://login.microsoftonline.com",
      management_url: "https://management.azure.com",
      owner_tags: ["owner", "contact", "email"],
    });
    expect(config.secrets).toEqual({ azure: "az-secret" });
  });

  it("takes sovereign-cloud endpoints and plain http on loopback (tests)", () => {
    const config = parseConfig(
      azure({ authority_url: "https://login.chinacloudapi.cn", management_url: "http://127.0.0.1:4500/arm" }),
      env,
    );
    expect(config.issuers.azure).toMatchObject({
      authority_url: "https://login.chinacloudapi.cn",
      management_url: "http://127.0.0.1:4500/arm",
    });
  });

  it.each([
    [{ management_url: "http://management.example.com" }, "issuers.azure.management_url"],
    [{ authority_url: "ftp://login.example.com" }, "issuers.azure.authority_url"],
    [{ subscriptions: [] }, "issuers.azure.subscriptions"],
    [{ subscriptions: ["not-a-guid"] }, "issuers.azure.subscriptions.0"],
    [{ client_secret: "inline" }, "issuers.azure.client_secret"],
    [{ tenant_id: undefined }, "issuers.azure.tenant_id"],
    [{ owner_tags: [] }, "issuers.azure.owner_tags"],
  ])("rejects %j, naming %s", (fields, path) => {
    expect(configError(() => parseConfig(azure(fields), env)).message).toContain(path);
  });

  it("names the missing client secret variable", () => {
    const error = configError(() => parseConfig(azure(), {}));
    expect(error.message).toContain(
      "issuers.azure.client_secret: environment variable AZURE_CLIENT_SECRET is not set",
    );
  });
});

describe("smtp channel TLS", () => {
  const withSmtp = (smtp: Record<string, unknown>) => ({
    ...minimal(),
    notifications: {
      channels: {
        email: { kind: "outbox" },
        relay: { kind: "smtp", host: "smtp.example.com", from: "security@example.com", ...smtp },
      },
    },
  });
  const relay = (smtp: Record<string, unknown>) =>
    parseConfig(withSmtp(smtp), ENV).notifications.channels.relay;

  it("requires TLS unless told otherwise: insecure defaults to false", () => {
    expect(relay({})).toMatchObject({ secure: false, insecure: false });
  });

  it.each(["127.0.0.1", "localhost", "::1"])("accepts insecure: true for the loopback relay %s", (host) => {
    expect(relay({ host, insecure: true })).toMatchObject({ host, insecure: true });
  });

  it.each(["smtp.example.com", "10.0.0.25", "127.example.com"])(
    "refuses insecure: true for %s, which is not loopback",
    (host) => {
      const { message } = configError(() => parseConfig(withSmtp({ host, insecure: true }), ENV));
      expect(message).toContain("notifications.channels.relay.insecure");
      expect(message).toContain(`loopback relay only (127.0.0.1, ::1, localhost), not ${host}`);
    },
  );

  it("refuses insecure together with secure", () => {
    const raw = withSmtp({ host: "127.0.0.1", insecure: true, secure: true });
    expect(configError(() => parseConfig(raw, ENV)).message).toContain(
      "notifications.channels.relay.insecure: contradicts secure: true",
    );
  });
});

describe("secret groups", () => {
  // Issuer, channel and App secrets, each from its own variable.
  const raw = () => ({
    ...minimal(),
    github_app: { app_id: 1, private_key: { env: "APP_KEY" }, webhook_secret: { env: "HOOK_SECRET" } },
    notifications: {
      channels: {
        email: { kind: "outbox" },
        slack: { kind: "slack", webhook_url: { env: "SLACK_URL" } },
        hook: { kind: "webhook", url: "https://hooks.example.com/", secret: { env: "HOOK_HMAC" } },
      },
    },
  });

  it("resolves every group by default", () => {
    const all = { ...ENV, APP_KEY: "pem", HOOK_SECRET: "hook", SLACK_URL: "https://s", HOOK_HMAC: "h" };
    const config = parseConfig(raw(), all);
    expect(config.secrets).toEqual({ sandbox: "s3cret" });
    expect(config.channelSecrets).toEqual({ slack: "https://s", hook: "h" });
    expect(config.githubAppSecrets).toEqual({ privateKey: "pem", webhookSecret: "hook" });
  });

  it("resolves only the groups asked for, without needing the others' variables", () => {
    const intake = parseConfig(raw(), ENV, "config", ["issuers"]);
    expect(intake.secrets).toEqual({ sandbox: "s3cret" });
    expect(intake.channelSecrets).toEqual({});
    expect(intake.githubAppSecrets).toBeUndefined();

    const worker = parseConfig(raw(), { ...ENV, SLACK_URL: "https://s", HOOK_HMAC: "h" }, "config", [
      "issuers",
      "channels",
    ]);
    expect(worker.channelSecrets).toEqual({ slack: "https://s", hook: "h" });
    expect(worker.githubAppSecrets).toBeUndefined();
  });

  it("names every missing variable of the groups asked for, and none of the others", () => {
    const { message } = configError(() => parseConfig(raw(), ENV, "config", ["issuers", "channels"]));
    expect(message).toContain("notifications.channels.slack.webhook_url: environment variable SLACK_URL");
    expect(message).toContain("notifications.channels.hook.secret: environment variable HOOK_HMAC");
    expect(message).not.toContain("github_app");
  });
});

describe("checking a config collects every problem", () => {
  it("names fields, cross-references and unset variables together, in one pass", () => {
    const raw = {
      issuers: {
        acme: { kind: "http", url: `https://\${ACME_HOST}/t`, secret: { env: "ACME_SECRET" } },
      },
      token_types: { acme_api_key: { issuer: "nope", mode: "obliterate" } },
      intake: { concurrency: 0 },
      github_app: { app_id: 1, private_key: { env: "APP_KEY" }, webhook_secret: { env: "HOOK" } },
    };
    const { config, problems } = checkConfig(raw, {});
    expect(config).toBeUndefined();
    expect(problems).toEqual(
      expect.arrayContaining([
        "issuers.acme.url: environment variable ACME_HOST is not set",
        expect.stringMatching(/^token_types\.acme_api_key\.mode: /),
        'token_types.acme_api_key.issuer: names issuer "nope", which is not defined under "issuers"',
        expect.stringMatching(/^intake\.concurrency: /),
        "issuers.acme.secret: environment variable ACME_SECRET is not set",
        "github_app.private_key: environment variable APP_KEY is not set",
        "github_app.webhook_secret: environment variable HOOK is not set",
      ]),
    );
    // The unset placeholder is the url's one problem: not also "not a URL".
    expect(problems.filter((p) => p.startsWith("issuers.acme.url"))).toHaveLength(1);
    expect(problems).toHaveLength(7);
    expect(configError(() => parseConfig(raw, {})).message).toMatch(
      /^config is invalid \(7 problems\):\n {2}- /,
    );
  });

  it("hints a literal string where a secret belongs towards an env reference, without repeating it", () => {
    const raw = minimal();
    (raw.issuers.sandbox as { secret: unknown }).secret = "hunter2-plain-text";
    const { problems } = checkConfig(raw, ENV);
    expect(problems).toEqual([
      'issuers.sandbox.secret: is a literal string where a secret belongs: write { "env": "NAME" } and set the variable NAME instead',
    ]);
    expect(problems.join("\n")).not.toContain("hunter2");
  });

  it("names the line and column of a JSON syntax error, and the file", () => {
    const path = writeTmp("syntax.json", '{\n  "issuers": {\n    "a": 1,\n  }\n}\n');
    const error = configError(() => checkConfigFile(path, ENV));
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/is not valid JSON: line 4, column 3: /);
    const truncated = writeTmp("truncated.json", '{\n  "issuers": {');
    expect(configError(() => checkConfigFile(truncated, ENV)).message).toMatch(/line 2, column 15/);
  });

  it("answers the config with no problems when it is valid", () => {
    expect(checkConfig(minimal(), ENV)).toMatchObject({
      problems: [],
      config: { secrets: { sandbox: "s3cret" } },
    });
  });
});
