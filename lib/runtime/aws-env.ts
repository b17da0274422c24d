import { ConfigError } from "../errors.js";

// The Lambda environment the CDK stack sets; each wiring module reads only what it needs, so a
// function loads only the AWS SDK clients it uses (cold start).

export type Env = Record<string, string | undefined>;

export function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}
