import type { AwsJsonClient } from "../aws/aws-json-client.js";
import { parseConfig, type TourniquetConfig } from "../config.js";
import { ConfigError, isAwsError } from "../errors.js";

// The deployed config: the Tourniquet config JSON in an SSM String parameter, and the issuer and
// channel secrets in one Secrets Manager secret (a JSON object NAME → value). The secret's keys are
// merged over the environment before the config's {"env": NAME} and ${NAME} references are resolved,
// so the parameter never holds a secret. Read at cold start, then again after a TTL, so operators
// change the config with `aws ssm put-parameter` instead of a deploy.

type Env = Record<string, string | undefined>;

/** How long a loaded config is used before it is read again. */
export const CONFIG_TTL_MS = 5 * 60 * 1000;

export interface AwsConfigSourceOptions {
  /** An SSM client (`AwsJsonClient` for `SSM`). */
  ssm: AwsJsonClient;
  /** A Secrets Manager client (`AwsJsonClient` for `SECRETS_MANAGER`). */
  secretsManager: AwsJsonClient;
  /** SSM parameter holding the config JSON (`/tourniquet/<stage>/config`). */
  parameterName: string;
  /** Secret holding NAME → value; none when the config references only the environment. */
  secretArn?: string | undefined;
  env?: Env;
  /** Clock, milliseconds (tests). */
  now?: () => number;
  ttlMs?: number;
  /** Called when a refresh fails and the previous config stays in use. */
  onRefreshError?: (error: unknown) => void;
}

/** Reads the parameter and the secret once and validates the config. */
export async function loadAwsConfig(options: AwsConfigSourceOptions): Promise<TourniquetConfig> {
  const [text, secrets] = await Promise.all([readParameter(options), readSecrets(options)]);
  const source = `SSM parameter ${options.parameterName}`;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(raw, { ...(options.env ?? process.env), ...secrets }, source);
}

/**
 * The config, cached for `ttlMs`. `get()` waits for a fresh copy when the cached one is stale;
 * `current()` never waits: it answers the cached copy and refreshes it in the background when stale.
 * A failed refresh keeps the last good config (and is retried after another TTL); only the first
 * load's failure is thrown.
 */
export class AwsConfigSource {
  private config: TourniquetConfig | undefined;
  private loadedAt = 0;
  private inFlight: Promise<TourniquetConfig> | undefined;
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(private readonly options: AwsConfigSourceOptions) {
    this.now = options.now ?? Date.now;
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
    return this.now() - this.loadedAt >= this.ttlMs;
  }

  private refresh(): Promise<TourniquetConfig> {
    this.inFlight ??= loadAwsConfig(this.options)
      .then((config) => {
        this.config = config;
        this.loadedAt = this.now();
        return config;
      })
      .catch((error: unknown) => {
        if (!this.config) throw error;
        this.loadedAt = this.now();
        this.options.onRefreshError?.(error);
        return this.config;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}

/** SSM GetParameter's output, the fields read here. */
interface GetParameterOutput {
  Parameter?: { Name?: string; Value?: string; Version?: number; Type?: string };
}

/** Secrets Manager GetSecretValue's output, the fields read here. */
interface GetSecretValueOutput {
  ARN?: string;
  Name?: string;
  SecretString?: string;
  VersionId?: string;
}

async function readParameter(options: AwsConfigSourceOptions): Promise<string> {
  let result: GetParameterOutput;
  try {
    result = await options.ssm.call<GetParameterOutput>("GetParameter", { Name: options.parameterName });
  } catch (error) {
    if (isAwsError(error, "ParameterNotFound")) {
      throw new ConfigError(`SSM parameter ${options.parameterName} does not exist`, { cause: error });
    }
    throw error;
  }
  const value = result.Parameter?.Value;
  if (!value) throw new ConfigError(`SSM parameter ${options.parameterName} has no value`);
  return value;
}

async function readSecrets(options: AwsConfigSourceOptions): Promise<Record<string, string>> {
  if (!options.secretArn) return {};
  let result: GetSecretValueOutput;
  try {
    result = await options.secretsManager.call<GetSecretValueOutput>("GetSecretValue", {
      SecretId: options.secretArn,
    });
  } catch (error) {
    if (isAwsError(error, "ResourceNotFoundException")) {
      throw new ConfigError(`secret ${options.secretArn} does not exist or has no current value`, {
        cause: error,
      });
    }
    throw error;
  }
  // Messages name the secret and the offending key, never a value.
  const where = `secret ${options.secretArn}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.SecretString ?? "");
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
