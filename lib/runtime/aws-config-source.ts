import type { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import type { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import { toAwsError } from "../aws/aws-call.js";
import { parseConfig, parseConfigJson, type TourniquetConfig } from "../config.js";
import { SECRET_GROUPS, type SecretGroup, type SecretRefAt, secretRefs } from "../config-secrets.js";
import { ConfigError, isAwsError } from "../errors.js";

// The deployed config: the Tourniquet config JSON in an SSM String parameter, and its secrets in one
// Secrets Manager secret per group (config-secrets.ts: issuers, channels, GitHub App), each a JSON
// object NAME → value. A function reads the secrets of its own groups only; their keys are merged over
// the environment (a group's own secret last) before the config's {"env": NAME} and ${NAME} references
// of those groups are resolved, so the parameter never holds a secret. All are read through Powertools
// Parameters, which caches each value for `maxAge`; on top of that this source keeps the last good
// config when a refresh fails, and refreshes in the background so an invocation never waits on SSM
// after the cold start. Operators change the config with `aws ssm put-parameter` instead of a deploy.

type Env = Record<string, string | undefined>;

/** How long a loaded config is used before it is read again. */
export const CONFIG_TTL_MS = 5 * 60 * 1000;

export interface AwsConfigSourceOptions {
  /** Powertools' SSM provider, on the Lambda's SSM client. */
  ssm: SSMProvider;
  /** Powertools' Secrets Manager provider. */
  secrets: SecretsProvider;
  /** SSM parameter holding the config JSON (`/tourniquet/<stage>/config`). */
  parameterName: string;
  /** The secret groups this function resolves; the others' secrets are neither read nor resolved. */
  groups?: readonly SecretGroup[];
  /** Each group's secret (NAME → value); a group without one resolves from the environment alone. */
  secretArns?: Partial<Record<SecretGroup, string>>;
  env?: Env;
  ttlMs?: number;
  /** Called when a refresh fails and the previous config stays in use. */
  onRefreshError?: (error: unknown) => void;
  /**
   * Builds from a config what the function builds from it (issuers, channels), throwing as that
   * construction would: a config is adopted only once it constructs, so a refresh that validates but
   * would fail every call is refused like one that does not validate.
   */
  check?: ((config: TourniquetConfig) => unknown) | undefined;
  /**
   * Called for each channel or App secret found in the issuers' secret, which every function that
   * verifies keys reads (the intake included): it belongs in its own group's secret.
   */
  onSharedSecret?: (ref: SecretRefAt) => void;
}

type GroupValues = Partial<Record<SecretGroup, Record<string, string>>>;

/** The parameter's text and the secrets' values, as read (from Powertools' cache while fresh). */
interface ConfigInputs {
  text: string;
  secrets: GroupValues;
}

const groupsOf = (options: AwsConfigSourceOptions) => options.groups ?? SECRET_GROUPS;

async function readInputs(options: AwsConfigSourceOptions): Promise<ConfigInputs> {
  // One read per distinct secret, of this function's groups only.
  const arns = new Map<string, SecretGroup[]>();
  for (const group of groupsOf(options)) {
    const arn = options.secretArns?.[group];
    if (arn) arns.set(arn, [...(arns.get(arn) ?? []), group]);
  }
  const [text, ...values] = await Promise.all([
    readParameter(options),
    ...[...arns.keys()].map((arn) => readSecrets(options, arn)),
  ]);
  const secrets: GroupValues = {};
  [...arns.values()].forEach((groups, i) => {
    for (const group of groups) secrets[group] = values[i];
  });
  return { text, secrets };
}

function parseInputs({ text, secrets }: ConfigInputs, options: AwsConfigSourceOptions): TourniquetConfig {
  const source = `SSM parameter ${options.parameterName}`;
  const raw = parseConfigJson(text, source);
  // The issuers' secret first: a group's own secret wins over it.
  const env = {
    ...(options.env ?? process.env),
    ...secrets.issuers,
    ...secrets.channels,
    ...secrets.github_app,
  };
  const config = parseConfig(raw, env, source, groupsOf(options));
  const shared = secrets.issuers ?? {};
  for (const ref of secretRefs(config)) {
    if (ref.group !== "issuers" && Object.hasOwn(shared, ref.name)) options.onSharedSecret?.(ref);
  }
  try {
    options.check?.(config);
  } catch (error) {
    throw new ConfigError(`${source} is invalid:\n  - ${(error as Error).message}`, { cause: error });
  }
  return config;
}

/** Reads the parameter and the secret and validates the config. */
export async function loadAwsConfig(options: AwsConfigSourceOptions): Promise<TourniquetConfig> {
  return parseInputs(await readInputs(options), options);
}

const sameValues = (a: Record<string, string> = {}, b: Record<string, string> = {}) =>
  Object.keys(a).length === Object.keys(b).length &&
  Object.entries(b).every(([name, value]) => a[name] === value);

const sameInputs = (a: ConfigInputs | undefined, b: ConfigInputs) =>
  a !== undefined &&
  a.text === b.text &&
  SECRET_GROUPS.every((group) => sameValues(a.secrets[group], b.secrets[group]));

/**
 * The config, re-read after `ttlMs`. `get()` waits for a fresh copy when the cached one is stale;
 * `current()` never waits: it answers the cached copy and refreshes it in the background when stale.
 * A failed refresh keeps the last good config (and is retried after another TTL); only the first
 * load's failure is thrown. A refresh that reads what it read before keeps the same config object,
 * so what is built from it (issuers, channels) is not rebuilt.
 */
export class AwsConfigSource {
  private config: TourniquetConfig | undefined;
  private inputs: ConfigInputs | undefined;
  private loadedAt = 0;
  private inFlight: Promise<TourniquetConfig> | undefined;
  private readonly ttlMs: number;

  constructor(private readonly options: AwsConfigSourceOptions) {
    this.ttlMs = options.ttlMs ?? CONFIG_TTL_MS;
  }

  async get(): Promise<TourniquetConfig> {
    if (this.config && !this.stale()) return this.config;
    return this.refresh();
  }

  /** The cached config (after a first `get()`); starts a background refresh when it is stale. */
  current(): TourniquetConfig {
    if (!this.config) throw new ConfigError("the config has not been loaded yet (call get() first)");
    if (this.stale()) this.refresh().catch(() => {});
    return this.config;
  }

  private stale(): boolean {
    return Date.now() - this.loadedAt >= this.ttlMs;
  }

  private refresh(): Promise<TourniquetConfig> {
    this.inFlight ??= readInputs(this.options)
      .then((inputs) => {
        if (!this.config || !sameInputs(this.inputs, inputs)) {
          this.config = parseInputs(inputs, this.options);
          this.inputs = inputs;
        }
        this.loadedAt = Date.now();
        return this.config;
      })
      .catch((error: unknown) => {
        if (!this.config) throw error;
        this.loadedAt = Date.now();
        this.options.onRefreshError?.(error);
        return this.config;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}

/**
 * Seconds Powertools keeps a value: a second less than the source's TTL, so when the source refreshes,
 * Powertools' copy has expired too and the refresh reads anew.
 */
const maxAgeSeconds = (options: AwsConfigSourceOptions) =>
  Math.max(0, Math.floor((options.ttlMs ?? CONFIG_TTL_MS) / 1000) - 1);

/** Powertools wraps the SDK's error (GetParameterError); the SDK's is what names the failure. */
const unwrap = (what: string, error: unknown) =>
  toAwsError(what, error instanceof Error && error.cause instanceof Error ? error.cause : error);

async function readParameter(options: AwsConfigSourceOptions): Promise<string> {
  let value: string | undefined;
  try {
    value = await options.ssm.get(options.parameterName, { maxAge: maxAgeSeconds(options) });
  } catch (caught) {
    const error = unwrap("ssm:GetParameter", caught);
    if (isAwsError(error, "ParameterNotFound")) {
      throw new ConfigError(`SSM parameter ${options.parameterName} does not exist`, { cause: error });
    }
    throw error;
  }
  if (!value) throw new ConfigError(`SSM parameter ${options.parameterName} has no value`);
  return value;
}

async function readSecrets(options: AwsConfigSourceOptions, arn: string): Promise<Record<string, string>> {
  let value: string | Uint8Array | undefined;
  try {
    value = await options.secrets.get(arn, { maxAge: maxAgeSeconds(options) });
  } catch (caught) {
    const error = unwrap("secretsmanager:GetSecretValue", caught);
    if (isAwsError(error, "ResourceNotFoundException")) {
      throw new ConfigError(`secret ${arn} does not exist or has no current value`, {
        cause: error,
      });
    }
    throw error;
  }
  // Messages name the secret and the offending key, never a value.
  const where = `secret ${arn}`;
  let parsed: unknown;
  try {
    // A binary secret is not the JSON object this source expects either.
    parsed = JSON.parse(typeof value === "string" ? value : "");
  } catch {
    throw new ConfigError(`${where} must hold a JSON object of NAME -> string value`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`${where} must hold a JSON object of NAME -> string value`);
  }
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== "string") throw new ConfigError(`${where}: the value of ${name} must be a string`);
    secrets[name] = value;
  }
  return secrets;
}
