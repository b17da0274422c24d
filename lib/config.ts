import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "./errors.js";

// The Tourniquet config file (TOURNIQUET_CONFIG): token types → issuers, intake limits, remediation and
// notification settings. Validated once at start; a bad file stops the service with a message naming
// the field. Strings may use ${VAR} or ${VAR:-default} to take values from the environment.

/** API Gateway's own payload limit; a configured body limit may not exceed it. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

const secretRef = z
  .object({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name") })
  .strict()
  .describe("Where the secret comes from; secrets never sit in the config file itself");

const httpIssuer = z
  .object({
    kind: z.literal("http"),
    url: z.url({ protocol: /^https?$/ }),
    secret: secretRef,
    timeout_ms: z.int().min(100).max(25_000).default(5_000),
  })
  .strict();

const tokenType = z.object({ issuer: z.string().min(1) }).strict();

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    issuers: z.record(z.string().min(1), z.discriminatedUnion("kind", [httpIssuer])).default({}),
    token_types: z.record(z.string().min(1), tokenType).default({}),
    intake: z
      .object({
        /** How long a partner report may spend verifying tokens before it answers; GitHub waits ≤ 30 s. */
        inline_verify_budget_ms: z.int().min(0).max(20_000).default(3_000),
        max_body_bytes: z
          .int()
          .min(1_024)
          .max(API_GATEWAY_MAX_BODY_BYTES)
          .default(5 * 1024 * 1024),
        concurrency: z.int().min(1).max(256).default(16),
      })
      .strict()
      .prefault({}),
    remediation: z
      .object({
        /** Deliveries of one message before the leak is marked failed (the queue's maxReceiveCount). */
        max_receives: z.int().min(1).max(20).default(5),
        /** Tries of one issuer call inside a delivery, with exponential backoff and jitter. */
        step_attempts: z.int().min(1).max(10).default(3),
        step_backoff_ms: z.int().min(0).max(60_000).default(200),
      })
      .strict()
      .prefault({}),
    notifications: z
      .object({
        security_contact: z.email().optional(),
        /** Base URL of the admin history, linked from every notification. */
        admin_url: z.url().optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Map<string, string>();
    for (const [type, route] of Object.entries(config.token_types)) {
      const key = type.toLowerCase();
      if (seen.has(key)) {
        ctx.addIssue({
          code: "custom",
          path: ["token_types", type],
          message: `duplicates "${seen.get(key)}" (token types are matched case-insensitively)`,
        });
      }
      seen.set(key, type);
      if (!(route.issuer in config.issuers)) {
        ctx.addIssue({
          code: "custom",
          path: ["token_types", type, "issuer"],
          message: `names issuer "${route.issuer}", which is not defined under "issuers"`,
        });
      }
    }
  });

export type TourniquetConfigFile = z.infer<typeof configSchema>;
export type HttpIssuerConfig = z.infer<typeof httpIssuer>;

export interface TourniquetConfig extends TourniquetConfigFile {
  /** Issuer secrets, resolved from the environment at load. */
  secrets: Record<string, string>;
}

type Env = Record<string, string | undefined>;

export function interpolateEnv(value: unknown, env: Env, path = "$"): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
      // Like the shell's ${VAR:-default}: an empty variable takes the default too.
      const resolved = env[name] || fallback;
      if (resolved === undefined) throw new ConfigError(`${path}: environment variable ${name} is not set`);
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, `${path}.${k}`)]),
    );
  }
  return value;
}

export function parseConfig(raw: unknown, env: Env = process.env, source = "config"): TourniquetConfig {
  let interpolated: unknown;
  try {
    interpolated = interpolateEnv(raw, env);
  } catch (error) {
    throw new ConfigError(`${source} is invalid:\n  - ${(error as Error).message}`, { cause: error });
  }
  const result = configSchema.safeParse(interpolated);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `  - ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new ConfigError(`${source} is invalid:\n${problems.join("\n")}`);
  }
  const config = result.data;
  const secrets: Record<string, string> = {};
  for (const [name, issuer] of Object.entries(config.issuers)) {
    const value = env[issuer.secret.env];
    if (!value) {
      throw new ConfigError(
        `${source} is invalid:\n  - issuers.${name}.secret: environment variable ${issuer.secret.env} is not set`,
      );
    }
    secrets[name] = value;
  }
  return { ...config, secrets };
}

export function loadConfig(path: string, env: Env = process.env): TourniquetConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${path} (set TOURNIQUET_CONFIG)`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return parseConfig(raw, env, `config file ${path}`);
}

/** The JSON Schema editors use to check a config file (config/tourniquet.schema.json). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }),
    title: "Tourniquet configuration",
    description: "Token types → issuers, intake limits, remediation and notification settings. See README.",
  };
}
