import { tmpdir } from "node:os";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { TourniquetConfig } from "../../lib/config.js";
import { AwsError, ConfigError } from "../../lib/errors.js";
import { createChannels } from "../../lib/notify/channel-registry.js";
import { awsConfig } from "../../lib/runtime/aws-config.js";
import { AwsConfigSource, CONFIG_TTL_MS, loadAwsConfig } from "../../lib/runtime/aws-config-source.js";
import { type FakeClientOptions, fakeAwsClientConfig } from "../helpers/fake-aws.js";
import {
  ACCESS_DENIED,
  type FakeSecretsManager,
  type FakeSsm,
  startFakeSecretsManager,
  startFakeSsm,
  THROTTLED,
} from "../helpers/fake-aws-config.js";
import { recordingLog } from "../helpers/recording-log.js";

// The deployed config source (Powertools Parameters on the SDK's SSM and Secrets Manager clients)
// against loopback fakes that speak the services' wire protocol (awsJson1_1, SigV4), failures included.

const PARAMETER = "/tourniquet/dev/config";
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tourniquet/dev/secrets-AbCdEf";
const SSM_INTERNAL_ERROR = {
  error: "InternalServerError",
  status: 500,
  message: "An internal error occurred",
};
const SM_INTERNAL_ERROR = {
  error: "InternalServiceError",
  status: 500,
  message: "An internal error occurred",
};

let ssm: FakeSsm;
let sm: FakeSecretsManager;

beforeAll(async () => {
  [ssm, sm] = await Promise.all([startFakeSsm(), startFakeSecretsManager()]);
});

afterAll(async () => {
  await Promise.all([ssm?.close(), sm?.close()]);
});

beforeEach(() => {
  for (const fake of [ssm, sm]) {
    fake.calls.length = 0;
    fake.clearFailures();
  }
  ssm.parameters.clear();
  sm.secrets.clear();
});

const config = (url = "https://keys.example.com/tourniquet") => ({
  issuers: { acme: { kind: "http", url, secret: { env: "ACME_HMAC" } } },
  token_types: { acme_api_key: { issuer: "acme" } },
});

const text = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));
const putParameter = (value: unknown) => ssm.putParameter(PARAMETER, text(value));
const putSecret = (value: unknown) => sm.putSecret(SECRET_ARN, text(value));

/** Powertools' SSM provider on an SDK client for the fake (a fresh provider has an empty cache). */
const ssmProvider = (client: FakeClientOptions = {}) =>
  new SSMProvider({ awsSdkV3Client: new SSMClient(fakeAwsClientConfig(ssm.url, client)) });

const options = (extra: Partial<Parameters<typeof loadAwsConfig>[0]> = {}) => ({
  ssm: ssmProvider(),
  secrets: new SecretsProvider({
    awsSdkV3Client: new SecretsManagerClient(fakeAwsClientConfig(sm.url)),
  }),
  parameterName: PARAMETER,
  secretArns: { issuers: SECRET_ARN },
  env: {},
  ...extra,
});

const failure = async (promise: Promise<unknown>) =>
  (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as Error;

/** Neither the message nor any cause in the chain mentions `value`. */
function expectNotEchoed(error: Error, value: string) {
  for (let e: unknown = error; e; e = (e as Error).cause) {
    expect(String((e as Error).message ?? e)).not.toContain(value);
  }
}

describe("loadAwsConfig", () => {
  it("resolves the config's secret references from the secret's keys", async () => {
    putParameter(config());
    putSecret({ ACME_HMAC: "s3cret-from-secrets-manager" });
    const loaded = await loadAwsConfig(options());
    expect(loaded.secrets).toEqual({ acme: "s3cret-from-secrets-manager" });
    expect(loaded.token_types.acme_api_key?.issuer).toBe("acme");
    // The documented request shapes, one call each.
    expect(ssm.callsOf("GetParameter")).toEqual([{ Name: PARAMETER, WithDecryption: false }]);
    expect(sm.callsOf("GetSecretValue")).toEqual([{ SecretId: SECRET_ARN }]);
  });

  it("merges the secret over the environment, which still fills the config's variable references", async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
    putParameter(config("${ACME_URL}"));
    putSecret({ ACME_HMAC: "from-secret" });
    const loaded = await loadAwsConfig(
      options({ env: { ACME_HMAC: "from-env", ACME_URL: "https://env.example.com/" } }),
    );
    expect(loaded.secrets.acme).toBe("from-secret");
    expect(loaded.issuers.acme).toMatchObject({ url: "https://env.example.com/" });
  });

  it("reads no secret when none is configured", async () => {
    putParameter(config());
    const loaded = await loadAwsConfig(options({ secretArns: {}, env: { ACME_HMAC: "env" } }));
    expect(loaded.secrets.acme).toBe("env");
    expect(sm.calls).toHaveLength(0);
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
    const error = await failure(loadAwsConfig(options()));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/ACME_HMAC is not set/);
    expectNotEchoed(error, "do-not-print-me");
  });

  it("rejects a parameter that is not JSON", async () => {
    putParameter("{not json");
    putSecret({});
    await expect(loadAwsConfig(options())).rejects.toThrow(/is not valid JSON/);
  });

  it.each([
    ["not JSON", "nope do-not-print-me", "do-not-print-me"],
    ["an array", '["do-not-print-me"]', "do-not-print-me"],
    ["a non-string value", JSON.stringify({ ACME_HMAC: 4242 }), "4242"],
    ["a JSON string", JSON.stringify("do-not-print-me"), "do-not-print-me"],
  ])("rejects a secret that is %s, without echoing it", async (_what, value, marker) => {
    putParameter(config());
    putSecret(value);
    const error = await failure(loadAwsConfig(options()));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(SECRET_ARN);
    expectNotEchoed(error, marker);
  });

  it("names the parameter when it does not exist (SSM ParameterNotFound), without retrying", async () => {
    putSecret({ ACME_HMAC: "v1" });
    const error = await failure(loadAwsConfig(options()));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`SSM parameter ${PARAMETER} does not exist`);
    expect(error.cause).toMatchObject({ code: "ParameterNotFound", httpStatus: 400, transient: false });
    expect(ssm.callsOf("GetParameter")).toHaveLength(1);
  });

  it("names the secret when it does not exist (ResourceNotFoundException)", async () => {
    putParameter(config());
    const error = await failure(loadAwsConfig(options()));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`secret ${SECRET_ARN} does not exist`);
    expect(error.cause).toMatchObject({ code: "ResourceNotFoundException", transient: false });
    expect(sm.callsOf("GetSecretValue")).toHaveLength(1);
  });

  it("fails at once on AccessDeniedException, naming the call", async () => {
    putParameter(config());
    putSecret({ ACME_HMAC: "v1" });
    sm.failNext("GetSecretValue", ACCESS_DENIED);
    const error = await failure(loadAwsConfig(options()));
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ code: "AccessDeniedException", httpStatus: 400, transient: false });
    expect(error.message).toMatch(/secretsmanager:GetSecretValue failed with 400 AccessDeniedException/);
    expect(sm.callsOf("GetSecretValue")).toHaveLength(1);
  });

  it.each([
    ["a 5xx", SSM_INTERNAL_ERROR],
    ["throttling", THROTTLED],
    ["a proxy's 503 page", { status: 503, raw: "<html><body>Service Unavailable</body></html>" }],
    ["a dropped connection", { drop: true as const }],
  ])("retries the parameter read after %s", async (_what, injected) => {
    putParameter(config());
    putSecret({ ACME_HMAC: "v1" });
    ssm.failNext("GetParameter", injected);
    expect((await loadAwsConfig(options())).secrets.acme).toBe("v1");
    expect(ssm.callsOf("GetParameter")).toHaveLength(2);
  });

  it.each([
    ["throttles", THROTTLED],
    ["answers 5xx", SM_INTERNAL_ERROR],
  ])(
    "retries the secret read while Secrets Manager %s, up to the client's attempts",
    async (_what, injected) => {
      putParameter(config());
      putSecret({ ACME_HMAC: "v1" });
      sm.failNext("GetSecretValue", injected, 2);
      expect((await loadAwsConfig(options())).secrets.acme).toBe("v1");
      expect(sm.callsOf("GetSecretValue")).toHaveLength(3);
    },
  );

  it("gives up after the client's attempts with a transient error when SSM keeps failing", async () => {
    putParameter(config());
    putSecret({ ACME_HMAC: "v1" });
    ssm.failNext("GetParameter", SSM_INTERNAL_ERROR, Number.POSITIVE_INFINITY);
    const error = await failure(loadAwsConfig(options()));
    expect(error).toMatchObject({ code: "InternalServerError", httpStatus: 500, transient: true });
    expect(ssm.callsOf("GetParameter")).toHaveLength(3);
  });

  it("times out a read that gets no answer, and retries it", async () => {
    putParameter(config());
    putSecret({ ACME_HMAC: "v1" });
    ssm.failNext("GetParameter", { hang: true });
    const loaded = await loadAwsConfig(options({ ssm: ssmProvider({ requestTimeout: 100 }) }));
    expect(loaded.secrets.acme).toBe("v1");
    expect(ssm.callsOf("GetParameter")).toHaveLength(2);

    ssm.failNext("GetParameter", { hang: true }, Number.POSITIVE_INFINITY);
    const error = await failure(
      loadAwsConfig(options({ ssm: ssmProvider({ requestTimeout: 100, maxAttempts: 2 }) })),
    );
    expect(error).toMatchObject({ code: "NetworkingError", transient: true });
    expect(error.message).toBe("ssm:GetParameter timed out");
    expect(ssm.callsOf("GetParameter")).toHaveLength(4);
  });

  it("is refused by the fakes when signed with other credentials (the fakes check SigV4)", async () => {
    putParameter(config());
    const wrong = ssmProvider({ credentials: { accessKeyId: "test", secretAccessKey: "not-the-secret" } });
    const error = await failure(loadAwsConfig(options({ ssm: wrong, secretArns: {} })));
    expect(error).toMatchObject({ code: "InvalidSignatureException", transient: false });
    // A client signing for the wrong service is refused as well.
    const misrouted = new SecretsManagerClient(fakeAwsClientConfig(ssm.url));
    await expect(misrouted.send(new GetSecretValueCommand({ SecretId: SECRET_ARN }))).rejects.toMatchObject({
      name: "InvalidSignatureException",
    });
  });
});

describe("AwsConfigSource", () => {
  // The source's TTL and Powertools' maxAge both read the system clock.
  function source(extra: Partial<ConstructorParameters<typeof AwsConfigSource>[0]> = {}) {
    const errors: unknown[] = [];
    const s = new AwsConfigSource({
      ...options(),
      onRefreshError: (error) => errors.push(error),
      ...extra,
    });
    return { s, errors, advance: (ms: number) => vi.setSystemTime(Date.now() + ms) };
  }

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    putParameter(config());
    putSecret({ ACME_HMAC: "v1" });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps the same config object when a refresh reads what it read before", async () => {
    const { s, advance } = source();
    const first = await s.get();
    advance(CONFIG_TTL_MS);
    expect(await s.get()).toBe(first);
    expect(ssm.callsOf("GetParameter")).toHaveLength(2);
    putSecret({ ACME_HMAC: "v2" });
    advance(CONFIG_TTL_MS);
    expect(await s.get()).not.toBe(first);
  });

  it("reads once within the TTL, with concurrent first calls sharing one read", async () => {
    const { s, advance } = source();
    const [a, b] = await Promise.all([s.get(), s.get()]);
    expect(a).toBe(b);
    advance(CONFIG_TTL_MS - 1);
    expect(await s.get()).toBe(a);
    expect(s.current()).toBe(a);
    expect(ssm.callsOf("GetParameter")).toHaveLength(1);
    expect(sm.callsOf("GetSecretValue")).toHaveLength(1);
  });

  it("reads again after the TTL and picks up a changed config and a rotated secret", async () => {
    const { s, advance } = source();
    expect((await s.get()).secrets.acme).toBe("v1");
    putParameter(config("https://new.example.com/"));
    putSecret({ ACME_HMAC: "v2" });
    advance(CONFIG_TTL_MS);
    const fresh = await s.get();
    expect(fresh.secrets.acme).toBe("v2");
    expect(fresh.issuers.acme).toMatchObject({ url: "https://new.example.com/" });
  });

  it("picks up a rotated secret of another group, read from that group's own secret", async () => {
    const CHANNELS = SECRET_ARN.replace("/secrets-", "/channel-secrets-");
    putParameter({
      ...config(),
      notifications: { channels: { slack: { kind: "slack", webhook_url: { env: "SLACK_URL" } } } },
      defaults: { channels: ["slack"] },
    });
    sm.putSecret(CHANNELS, text({ SLACK_URL: "https://hooks.example/v1" }));
    const { s, advance } = source({
      groups: ["issuers", "channels"],
      secretArns: { issuers: SECRET_ARN, channels: CHANNELS },
    });
    const first = await s.get();
    expect(first.channelSecrets.slack).toBe("https://hooks.example/v1");
    sm.putSecret(CHANNELS, text({ SLACK_URL: "https://hooks.example/v2" }));
    advance(CONFIG_TTL_MS);
    expect((await s.get()).channelSecrets.slack).toBe("https://hooks.example/v2");
    // Each secret once per load (the two are read in parallel).
    expect(
      sm
        .callsOf("GetSecretValue")
        .map((c) => String(c.SecretId))
        .sort(),
    ).toEqual([SECRET_ARN, CHANNELS, SECRET_ARN, CHANNELS].sort());
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
    expect(ssm.callsOf("GetParameter")).toHaveLength(2);
  });

  it.each([
    [
      "SSM keeps answering 5xx",
      () => ssm.failNext("GetParameter", SSM_INTERNAL_ERROR, Infinity),
      /500 InternalServerError/,
    ],
    [
      "Secrets Manager keeps throttling",
      () => sm.failNext("GetSecretValue", THROTTLED, Infinity),
      /ThrottlingException/,
    ],
    [
      "access to the secret is revoked",
      () => sm.failNext("GetSecretValue", ACCESS_DENIED, Infinity),
      /AccessDeniedException/,
    ],
    [
      "the parameter was deleted",
      () => ssm.deleteParameter(PARAMETER),
      /SSM parameter \/tourniquet\/dev\/config does not exist/,
    ],
    ["the secret was deleted", () => sm.secrets.clear(), /does not exist/],
  ])("keeps the last good config when a refresh fails because %s", async (_what, breakIt, reported) => {
    const { s, errors, advance } = source();
    const first = await s.get();
    breakIt();
    advance(CONFIG_TTL_MS);
    expect(await s.get()).toBe(first);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(reported);
    // The background path too: current() keeps answering the good config while refreshes fail.
    advance(CONFIG_TTL_MS);
    expect(s.current()).toBe(first);
    await expect.poll(() => errors.length).toBe(2);
    expect(s.current()).toBe(first);
  });

  it("keeps the last good config when a refresh times out", async () => {
    const { s, errors, advance } = source({ ssm: ssmProvider({ requestTimeout: 100, maxAttempts: 1 }) });
    const first = await s.get();
    ssm.failNext("GetParameter", { hang: true });
    advance(CONFIG_TTL_MS);
    expect(await s.get()).toBe(first);
    expect(errors[0]).toMatchObject({ code: "NetworkingError", transient: true });
  });

  it("throws when the first load fails, and tries again on the next call", async () => {
    ssm.failNext("GetParameter", ACCESS_DENIED);
    const { s } = source();
    const error = await failure(s.get());
    expect(error).toMatchObject({ code: "AccessDeniedException", transient: false });
    expect(error.message).toMatch(/AccessDenied/);
    expect(() => s.current()).toThrow(ConfigError);
    expect((await s.get()).secrets.acme).toBe("v1");
    expect(ssm.callsOf("GetParameter")).toHaveLength(2);
  });

  it("throws a ConfigError naming the parameter when the first load finds none, and loads once it exists", async () => {
    ssm.deleteParameter(PARAMETER);
    const { s } = source();
    await expect(s.get()).rejects.toThrow(new ConfigError(`SSM parameter ${PARAMETER} does not exist`));
    expect(() => s.current()).toThrow(ConfigError);
    putParameter(config());
    expect((await s.get()).secrets.acme).toBe("v1");
  });
});

describe("awsConfig (the Lambda wiring)", () => {
  // The SDK's clients read the region, credentials and endpoints from the process's environment.
  const env = () => ({
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_SESSION_TOKEN: "session-token",
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
    TOURNIQUET_CONFIG_PARAMETER: PARAMETER,
    TOURNIQUET_SECRETS_ARN: SECRET_ARN,
  });

  beforeEach(() => {
    for (const [name, value] of Object.entries(env())) vi.stubEnv(name, value);
  });

  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it("reads the parameter and the secret through the endpoints and credentials of the environment", async () => {
    putParameter(config());
    putSecret({ ACME_HMAC: "from-secrets-manager" });
    const current = await awsConfig(recordingLog().log, env(), ["issuers"]);
    expect(current().secrets.acme).toBe("from-secrets-manager");
    expect(ssm.callsOf("GetParameter")).toEqual([{ Name: PARAMETER, WithDecryption: false }]);
    expect(sm.callsOf("GetSecretValue")).toEqual([{ SecretId: SECRET_ARN }]);
  });

  it("fails the cold start with the ConfigError when the parameter does not exist", async () => {
    putSecret({ ACME_HMAC: "v1" });
    await expect(awsConfig(recordingLog().log, env(), ["issuers"])).rejects.toThrow(
      new ConfigError(`SSM parameter ${PARAMETER} does not exist`),
    );
  });

  it("logs a failed refresh and keeps the last good config", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    putParameter(config());
    putSecret({ ACME_HMAC: "v1" });
    const { log, lines } = recordingLog();
    const current = await awsConfig(log, env(), ["issuers"]);
    const first = current();
    // Every attempt: the faked clock jump makes the SDK correct for clock skew and try once more.
    ssm.failNext("GetParameter", ACCESS_DENIED, Number.POSITIVE_INFINITY);
    vi.setSystemTime(Date.now() + CONFIG_TTL_MS);
    expect(current()).toBe(first);
    await expect.poll(() => lines.join("\n")).toMatch(/config refresh failed.*AccessDeniedException/);
    expect(current()).toBe(first);
  });

  it("refuses a refreshed config that validates but does not construct, logs it and publishes ConfigRejected", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const stdout: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void stdout.push(args.join(" ")));
    const slack = (url: string) => ({ SLACK_URL: url, ACME_HMAC: "v1" });
    const withSlack = {
      ...config(),
      defaults: { channels: ["team"] },
      notifications: { channels: { team: { kind: "slack", webhook_url: { env: "SLACK_URL" } } } },
    };
    putParameter(withSlack);
    putSecret(slack("https://hooks.slack.com/services/T/B/good"));
    const { log, lines } = recordingLog();
    // What the worker builds from a config: its channels.
    const check = (c: TourniquetConfig) => createChannels(c, { outboxDir: tmpdir() });
    const current = await awsConfig(log, env(), ["issuers", "channels"], check);
    const first = current();

    // Schema-valid (the URL is a secret), but the Slack channel refuses plain http off loopback.
    putSecret(slack("http://hooks.slack.example.com/services/T/B/bad"));
    vi.setSystemTime(Date.now() + CONFIG_TTL_MS);
    expect(current()).toBe(first);
    await expect.poll(() => lines.join("\n")).toMatch(/config refresh rejected.*must use https/);
    expect(current()).toBe(first);
    expect(stdout.join("\n")).toMatch(/"ConfigRejected":1/);
    expect(lines.join("\n")).not.toContain("hooks.slack.example.com/services/T/B/bad");
  });
});
