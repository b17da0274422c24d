import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { awsClientDefaults } from "../aws/client-config.js";
import { loadConfig, type TourniquetConfig } from "../config.js";
import type { SecretGroup } from "../config-secrets.js";
import { ConfigError } from "../errors.js";
import { describeError, type Log } from "../log.js";
import { AwsConfigSource } from "./aws-config-source.js";
import type { Env } from "./aws-env.js";
import { GROUP_SECRETS } from "./function-secrets.js";
import { publishConfigRejected } from "./metrics.js";

/**
 * The current config: deployed, from the SSM parameter TOURNIQUET_CONFIG_PARAMETER with the secrets of
 * the function's `groups` (each group's secret named by its variable, function-secrets.ts), loaded now
 * and re-read in the background after a TTL; otherwise from the file TOURNIQUET_CONFIG, read once.
 * `check` builds what the function builds from the config (see AwsConfigSourceOptions.check): a config
 * that would not construct is refused at load and at refresh.
 */
export async function awsConfig(
  log: Log,
  env: Env,
  groups: readonly SecretGroup[],
  check?: (config: TourniquetConfig) => unknown,
): Promise<() => TourniquetConfig> {
  const parameterName = env.TOURNIQUET_CONFIG_PARAMETER;
  if (!parameterName) {
    const config = loadConfig(env.TOURNIQUET_CONFIG ?? "tourniquet.config.json", env, groups);
    check?.(config);
    return () => config;
  }
  const source = new AwsConfigSource({
    ssm: new SSMProvider({ awsSdkV3Client: new SSMClient(awsClientDefaults()) }),
    secrets: new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(awsClientDefaults()) }),
    parameterName,
    groups,
    secretArns: Object.fromEntries(groups.map((group) => [group, env[GROUP_SECRETS[group].variable]])),
    env,
    check,
    onRefreshError: (error) => {
      if (error instanceof ConfigError) {
        // An operator's mistake, not an outage: the ConfigRejected alarm tells them before they wonder.
        log.error("config refresh rejected; using the last good config", { error: describeError(error) });
        publishConfigRejected();
      } else {
        log.warn("config refresh failed; using the last good config", { error: String(error) });
      }
    },
    // Names and places only, never a value.
    onSharedSecret: ({ group, name, path }) =>
      log.warn(
        `a ${group === "channels" ? "channel" : "GitHub App"} secret sits in the issuers' secret, which the ` +
          `intake reads too; move it to the ${group === "channels" ? "channels'" : "GitHub App's"} secret ` +
          `(${GROUP_SECRETS[group].variable}, tourniquet/<stage>/${GROUP_SECRETS[group].name})`,
        { name, path },
      ),
  });
  await source.get();
  return () => source.current();
}

/** `build(config)`, rebuilt only when the config is replaced by a refresh. */
export function derived<T>(config: () => TourniquetConfig, build: (config: TourniquetConfig) => T): () => T {
  let last: TourniquetConfig | undefined;
  let value: T | undefined;
  return () => {
    const current = config();
    if (current !== last || value === undefined) {
      value = build(current);
      last = current;
    }
    return value;
  };
}
