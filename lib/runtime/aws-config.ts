import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { awsClientDefaults } from "../aws/client-config.js";
import { loadConfig, type TourniquetConfig } from "../config.js";
import type { Log } from "../log.js";
import { AwsConfigSource } from "./aws-config-source.js";
import type { Env } from "./aws-env.js";

/**
 * The current config: deployed, from the SSM parameter TOURNIQUET_CONFIG_PARAMETER with the secrets of
 * TOURNIQUET_SECRETS_ARN, loaded now and re-read in the background after a TTL; otherwise from the
 * file TOURNIQUET_CONFIG, read once.
 */
export async function awsConfig(log: Log, env: Env): Promise<() => TourniquetConfig> {
  const parameterName = env.TOURNIQUET_CONFIG_PARAMETER;
  if (!parameterName) {
    const config = loadConfig(env.TOURNIQUET_CONFIG ?? "tourniquet.config.json", env);
    return () => config;
  }
  const source = new AwsConfigSource({
    ssm: new SSMProvider({ awsSdkV3Client: new SSMClient(awsClientDefaults()) }),
    secrets: new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(awsClientDefaults()) }),
    parameterName,
    secretArn: env.TOURNIQUET_SECRETS_ARN,
    env,
    onRefreshError: (error) =>
      log.warn("config refresh failed; using the last good config", { error: String(error) }),
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
