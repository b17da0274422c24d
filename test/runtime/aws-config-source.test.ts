import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/errors.js";
import { AwsConfigSource, CONFIG_TTL_MS, loadAwsConfig } from "../../lib/runtime/aws-config-source.js";

const ssm = mockClient(SSMClient);
const secretsManager = mockClient(SecretsManagerClient);

const PARAMETER = "/tourniquet/dev/config";
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tourniquet/dev/secrets-AbCdEf";

const config = (url = "https://keys.example.com/tourniquet") => ({
  issuers: { acme: { kind: "http", url, secret: { env: "ACME_HMAC" } } },
  token_types: { acme_api_key: { issuer: "acme" } },
});

function putParameter(value: unknown) {
  ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({
    Parameter: { Name: PARAMETER, Value: typeof value === "string" ? value : JSON.stringify(value) },
  });
}

function putSecret(value: unknown) {
  secretsManager
    .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
    .resolves({ SecretString: typeof value === "string" ? value : JSON.stringify(value) });
}

const options = (extra: Partial<Parameters<typeof loadAwsConfig>[0]> = {}) => ({
  ssm: new SSMClient({}),
  secretsManager: new SecretsManagerClient({}),
  parameterName: PARAMETER,
  secretArn: SECRET_ARN,
  env: {},
  ...extra,
});

beforeEach(() => {
  ssm.reset();
  secretsManager.reset();
});

describe("loadAwsConfig", () => {
  it("resolves the config's secret references from the secret's keys", async () => {
    putParameter(config());
    putSecret({ ACME_HMAC: "s3cret-from-secrets-manager" });
    const loaded = await loadAwsConfig(options());
    expect(loaded.secrets).toEqual({ acme: "s3cret-from-secrets-manager" });
    expect(loaded.token_types.acme_api_key?.issuer).toBe("acme");
  });

  it("merges the secret over the environment, which still fills the config's variable references", async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
    putParameter(config("${ACME_URL}"));
    putSecret({ ACME_HMAC: "from-secret" });
    const loaded = await loadAwsConfig(
      options({ env: { ACME_HMAC: "from-env", ACME_URL: "https://env.example.com/" } }),
    );
    expect(loaded.secrets.acme).toBe("from-secret");
    expect(loaded.issuers.acme?.url).toBe("https://env.example.com/");
  });

  it("reads no secret when none is configured", async () => {
    putParameter(config());
    const loaded = await loadAwsConfig(options({ secretArn: undefined, env: { ACME_HMAC: "env" } }));
    expect(loaded.secrets.acme).toBe("env");
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it("names the parameter and the field when the config is invalid", async () => {
    putParameter({ token_types: { t: { issuer: "missing" } } });
    putSecret({});
    await expect(loadAwsConfig(options())).rejects.toThrow(
      /SSM parameter \/tourniquet\/dev\/config is invalid/,
    );
  });

  it("names a missing secret key without printing any secret value", async () => {
    putParameter(config());
    putSecret({ OTHER: "do-not-print-me" });
    const error = (await loadAwsConfig(options()).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/ACME_HMAC is not set/);
    expect(error.message).not.toContain("do-not-print-me");
  });

  it("rejects a parameter that is not JSON", async () => {
    putParameter("{not json");
    putSecret({});
    await expect(loadAwsConfig(options())).rejects.toThrow(/is not valid JSON/);
  });

  it.each([
    ["not JSON", "nope"],
    ["an array", "[]"],
    ["a non-string value", JSON.stringify({ ACME_HMAC: 42 })],
  ])("rejects a secret that is %s, without echoing it", async (_what, value) => {
    putParameter(config());
    putSecret(value);
    const error = (await loadAwsConfig(options()).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(SECRET_ARN);
    expect(error.message).not.toContain("42");
  });
});

describe("AwsConfigSource", () => {
  function source(extra: Partial<ConstructorParameters<typeof AwsConfigSource>[0]> = {}) {
    let time = 1_000_000;
    const errors: unknown[] = [];
    const s = new AwsConfigSource({
      ...options(),
      now: () => time,
      onRefreshError: (error) => errors.push(error),
      ...extra,
    });
    return { s, errors, advance: (ms: number) => (time += ms) };
  }

  beforeEach(() => {
    putParameter(config());
    putSecret({ ACME_HMAC: "v1" });
  });

  it("reads once within the TTL, with concurrent first calls sharing one read", async () => {
    const { s, advance } = source();
    const [a, b] = await Promise.all([s.get(), s.get()]);
    expect(a).toBe(b);
    advance(CONFIG_TTL_MS - 1);
    expect(await s.get()).toBe(a);
    expect(s.current()).toBe(a);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it("reads again after the TTL and picks up a changed config and a rotated secret", async () => {
    const { s, advance } = source();
    expect((await s.get()).secrets.acme).toBe("v1");
    putParameter(config("https://new.example.com/"));
    putSecret({ ACME_HMAC: "v2" });
    advance(CONFIG_TTL_MS);
    const fresh = await s.get();
    expect(fresh.secrets.acme).toBe("v2");
    expect(fresh.issuers.acme?.url).toBe("https://new.example.com/");
  });

  it("current() answers at once and refreshes in the background when stale", async () => {
    const { s, advance } = source();
    const first = await s.get();
    putSecret({ ACME_HMAC: "v2" });
    advance(CONFIG_TTL_MS);
    expect(s.current()).toBe(first);
    await expect.poll(() => s.current().secrets.acme).toBe("v2");
  });

  it("keeps the last good config when a refresh fails, and reports the failure", async () => {
    const { s, errors, advance } = source();
    const first = await s.get();
    putParameter("{broken");
    advance(CONFIG_TTL_MS);
    expect(await s.get()).toBe(first);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/not valid JSON/);
    // Not retried on every call: only after another TTL.
    expect(await s.get()).toBe(first);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it("throws when the first load fails, and tries again on the next call", async () => {
    ssm.reset();
    ssm.on(GetParameterCommand).rejects(new Error("AccessDenied"));
    const { s } = source();
    await expect(s.get()).rejects.toThrow("AccessDenied");
    expect(() => s.current()).toThrow(ConfigError);
    putParameter(config());
    expect((await s.get()).secrets.acme).toBe("v1");
  });
});
