import { readFileSync } from "node:fs";
import * as z from "zod";
import {
  looseSecretRefs,
  SECRET_GROUPS,
  type SecretGroup,
  type SecretRefAt,
  secretRefs,
} from "./config-secrets.js";
import { ConfigError } from "./errors.js";
import { DEFAULT_MAX_BODY_BYTES, MAX_BODY_BYTES } from "./http/body-limit.js";
import { isLoopbackHost, outboundUrlProblem } from "./http/outbound.js";
import { keyHalfOf } from "./issuers/token-pairs.js";
import { unrevocableType } from "./issuers/unrevocable-types.js";

// The Tourniquet config file (TOURNIQUET_CONFIG): token types → issuers, intake limits, remediation and
// notification settings. Validated once at start; a bad file stops the service with a message naming
// the field. Strings may use ${VAR} or ${VAR:-default} to take values from the environment.

const secretRef = z
  .object(
    { env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name") },
    {
      // The value itself is never repeated: it may be the secret.
      error: (issue) =>
        issue.code === "invalid_type" && typeof issue.input === "string"
          ? 'is a literal string where a secret belongs: write { "env": "NAME" } and set the variable NAME instead'
          : undefined,
    },
  )
  .strict()
  .describe("Where the secret comes from; secrets never sit in the config file itself");

/** An endpoint Tourniquet calls: the same rule (outboundUrlProblem) as the client that will call it. */
const outboundUrl = z.url().superRefine((value, ctx) => {
  const problem = outboundUrlProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const httpIssuer = z
  .object({
    kind: z.literal("http"),
    url: outboundUrl,
    secret: secretRef,
    timeout_ms: z.int().min(100).max(25_000).default(5_000),
  })
  .strict();

/** An Azure subscription id: a GUID. */
const subscriptionId = z
  .string()
  .regex(
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    "must be a subscription id (GUID)",
  );

/**
 * Azure OpenAI / AI services keys: found among the Cognitive Services accounts of `subscriptions` with
 * a service principal's credentials, killed by regenerating their slot (lib/issuers/azure/).
 */
const azureAiIssuer = z
  .object({
    kind: z.literal("azure_ai"),
    tenant_id: z.string().min(1).describe("The Entra ID tenant (directory) of the service principal"),
    client_id: z.string().min(1).describe("The service principal's application (client) id"),
    client_secret: secretRef.describe("The service principal's client secret"),
    subscriptions: z
      .array(subscriptionId)
      .min(1)
      .describe("Subscriptions whose Cognitive Services accounts are searched for a leaked key"),
    authority_url: outboundUrl
      .default("https://login.microsoftonline.com")
      .describe("Entra ID's authority: another for sovereign clouds (China, US Government) and tests"),
    management_url: outboundUrl
      .default("https://management.azure.com")
      .describe("Azure Resource Manager: another for sovereign clouds and tests"),
    owner_tags: z
      .array(z.string().min(1))
      .min(1)
      .default(["owner", "contact", "email"])
      .describe("Account tags read, in order, for the owner's email: the first that holds an email wins"),
  })
  .strict();

/** An AWS account id: twelve digits. */
const awsAccountId = z.string().regex(/^\d{12}$/, "must be an AWS account id (12 digits)");

/**
 * AWS IAM access keys: the key's account named by STS, the key found, deactivated and replaced in that
 * account through its responder role (lib/issuers/aws/). Endpoints and partition come from the SDK's
 * own settings (AWS_REGION, AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL_STS).
 */
const awsIamIssuer = z
  .object({
    kind: z.literal("aws_iam"),
    accounts: z
      .record(
        awsAccountId,
        z
          .object({
            role_arn: z
              .string()
              .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, "must be an IAM role ARN")
              .optional()
              .describe(
                "The responder role Tourniquet assumes in this account; absent for the account Tourniquet runs in (its own credentials)",
              ),
            external_id: z
              .string()
              .regex(/^[\w+=,.@:/-]{2,1224}$/, "must be 2–1224 characters of [A-Za-z0-9+=,.@:/_-]")
              .optional()
              .describe("The external id the role's trust policy requires (sts:ExternalId), if any"),
          })
          .strict()
          .superRefine((account, ctx) => {
            if (account.external_id && !account.role_arn) {
              ctx.addIssue({ code: "custom", path: ["external_id"], message: "needs role_arn" });
            }
          }),
      )
      .refine((accounts) => Object.keys(accounts).length > 0, "must name at least one account")
      .superRefine((accounts, ctx) => {
        for (const [id, account] of Object.entries(accounts)) {
          const roleAccount = account.role_arn?.split(":")[4];
          if (roleAccount && roleAccount !== id) {
            ctx.addIssue({
              code: "custom",
              path: [id, "role_arn"],
              message: `is a role of account ${roleAccount}: the responder role must be in account ${id}, whose users it manages`,
            });
          }
        }
      })
      .describe("Accounts whose leaked keys Tourniquet acts on; a key of any other account is left unknown"),
    delete_after_deactivate: z
      .boolean()
      .default(false)
      .describe(
        "Delete the key once deactivated (irreversible); by default it stays Inactive so an admin can undo a false alarm",
      ),
    quarantine: z
      .boolean()
      .default(true)
      .describe("Attach AWS's managed AWSCompromisedKeyQuarantineV3 policy to the key's user, as AWS does"),
    owner_tags: z
      .array(z.string().min(1))
      .min(1)
      .default(["email", "owner", "contact"])
      .describe("IAM user tags read, in order, for the owner's email: the first that holds an email wins"),
  })
  .strict();

const timeoutMs = z.int().min(100).max(25_000).default(5_000).describe("Each call's time limit");

/** GitHub tokens: verified with GET /user, revoked through the credentials revocation API in batches. */
const githubIssuer = z
  .object({
    kind: z.literal("github"),
    api_url: outboundUrl
      .default("https://api.github.com")
      .describe(
        "GitHub's REST API: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server",
      ),
    timeout_ms: timeoutMs,
  })
  .strict();

/** Slack tokens: verified with auth.test, revoked with auth.revoke called with the token itself. */
const slackIssuer = z
  .object({
    kind: z.literal("slack"),
    api_url: outboundUrl
      .default("https://slack.com/api")
      .describe("Slack's Web API: https://slack.com/api, or GovSlack's https://slack-gov.com/api"),
    bot_token: secretRef
      .optional()
      .describe("A bot token with users:read.email, to look up the token owner's email (users.info)"),
    timeout_ms: timeoutMs,
  })
  .strict();

/** OpenAI API keys: verified with GET /models, deleted through the organisation's admin API. */
const openaiIssuer = z
  .object({
    kind: z.literal("openai"),
    api_url: outboundUrl.default("https://api.openai.com/v1").describe("OpenAI's API base URL"),
    admin_key: secretRef.describe(
      "An organisation admin key (sk-admin-…): lists projects' API keys and deletes them",
    ),
    timeout_ms: timeoutMs,
  })
  .strict();

/** The GitHub App whose `secret_scanning_alert` webhooks POST /v1/github/webhooks receives. */
const githubApp = z
  .object({
    app_id: z
      .union([
        z.int().positive(),
        z.string().regex(/^(\d{1,20}|Iv[0-9A-Za-z.]{1,60})$/, "must be the App's numeric id or client id"),
      ])
      .transform(String)
      .describe("The App's id (or client id): the `iss` of the JWT the App signs"),
    private_key: secretRef.describe("The App's private key (PEM), to sign the App's JWT"),
    webhook_secret: secretRef.describe("The App's webhook secret: X-Hub-Signature-256 is checked with it"),
    previous_webhook_secret: secretRef
      .optional()
      .describe(
        "While the webhook secret is rotated: the secret being replaced, still accepted beside webhook_secret; remove it once GitHub signs with the new one",
      ),
    api_url: outboundUrl
      .default("https://api.github.com")
      .describe(
        "GitHub's REST API: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server",
      ),
  })
  .strict();

export const POLICY_MODES = ["revoke", "revoke_and_rotate", "notify_only", "dry_run"] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

/** What Tourniquet does with a live key of a type, and whom it tells. Unset fields take `defaults`. */
const policyFields = {
  mode: z
    .enum(POLICY_MODES)
    .describe(
      "revoke (default); revoke_and_rotate; notify_only (verify and notify, never revoke); dry_run (record what would be done, do nothing)",
    ),
  channels: z
    .array(z.string().min(1))
    .describe("Names of notification channels (notifications.channels) to use"),
  copy_security_contact: z
    .enum(["never", "failures", "always"])
    .describe("Also tell the security contact about every leak, or only when remediation fails"),
  resolve_false_positive_alerts: z
    .boolean()
    .describe(
      "Resolve a GitHub App alert as false_positive when the issuer does not know its token (default false: the alert stays open for a person to judge); revoked or already-inactive tokens' alerts are always resolved as revoked",
    ),
};

const tokenType = z
  .object({
    issuer: z.string().min(1),
    mode: policyFields.mode.optional(),
    channels: policyFields.channels.optional(),
    copy_security_contact: policyFields.copy_security_contact.optional(),
    resolve_false_positive_alerts: policyFields.resolve_false_positive_alerts.optional(),
  })
  .strict();

const channelConfig = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("outbox"),
      /** How the message is rendered into the local outbox: as an email, or as a Slack message. */
      format: z.enum(["email", "slack", "webhook"]).default("email"),
    })
    .strict(),
  z.object({ kind: z.literal("ses"), from: z.email(), configuration_set: z.string().optional() }).strict(),
  z
    .object({
      kind: z.literal("smtp"),
      host: z.string().min(1),
      port: z.int().min(1).max(65_535).default(587),
      secure: z
        .boolean()
        .default(false)
        .describe("TLS from the start (port 465); otherwise STARTTLS, which is then required"),
      insecure: z
        .boolean()
        .default(false)
        .describe("Send without TLS: only for a relay on this host (127.0.0.1, ::1, localhost)"),
      from: z.email(),
      user: z.string().optional(),
      password: secretRef.optional(),
    })
    .strict()
    .superRefine((smtp, ctx) => {
      // Mail about a leaked key, and the relay password, cross the network only encrypted.
      if (smtp.insecure && !isLoopbackHost(smtp.host)) {
        ctx.addIssue({
          code: "custom",
          path: ["insecure"],
          message: `is allowed for a loopback relay only (127.0.0.1, ::1, localhost), not ${smtp.host}: TLS is required`,
        });
      }
      if (smtp.insecure && smtp.secure) {
        ctx.addIssue({ code: "custom", path: ["insecure"], message: "contradicts secure: true" });
      }
    }),
  z.object({ kind: z.literal("slack"), webhook_url: secretRef }).strict(),
  z.object({ kind: z.literal("webhook"), url: outboundUrl, secret: secretRef }).strict(),
]);

export type ChannelConfig = z.infer<typeof channelConfig>;

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    issuers: z
      .record(
        z.string().min(1),
        z.discriminatedUnion("kind", [
          httpIssuer,
          azureAiIssuer,
          awsIamIssuer,
          githubIssuer,
          slackIssuer,
          openaiIssuer,
        ]),
      )
      .default({}),
    token_types: z.record(z.string().min(1), tokenType).default({}),
    defaults: z
      .object({
        mode: policyFields.mode.default("revoke"),
        channels: policyFields.channels.default(["email"]),
        copy_security_contact: policyFields.copy_security_contact.default("failures"),
        resolve_false_positive_alerts: policyFields.resolve_false_positive_alerts.default(false),
      })
      .strict()
      .prefault({}),
    /** Fingerprints (SHA-256 hex) of known test tokens: recorded as allowlisted, never acted on. */
    allowlist: z
      .array(z.string().regex(/^[0-9a-fA-F]{64}$/, "must be a SHA-256 hex fingerprint"))
      .default([])
      .transform((list) => list.map((f) => f.toLowerCase())),
    /** Who owns a key when the issuer does not say: keyed by the issuer's owner id or by key id. */
    owners: z
      .record(z.string().min(1), z.object({ email: z.email(), name: z.string().optional() }).strict())
      .default({}),
    intake: z
      .object({
        /** How long a partner report may spend verifying tokens before it answers; GitHub waits ≤ 30 s. */
        inline_verify_budget_ms: z.int().min(0).max(20_000).default(3_000),
        // The maximum is what fits Lambda's event once base64-encoded: see lib/http/body-limit.ts.
        max_body_bytes: z
          .int()
          .min(1_024)
          .max(
            MAX_BODY_BYTES,
            `must be at most ${MAX_BODY_BYTES}: a larger body, base64-encoded by API Gateway, would not fit Lambda's 6 MB event`,
          )
          .default(DEFAULT_MAX_BODY_BYTES)
          .describe(
            `Larger request bodies get 413. At most ${MAX_BODY_BYTES} bytes, the largest body whose base64 form fits Lambda's 6 MB synchronous payload with its event`,
          ),
        concurrency: z.int().min(1).max(256).default(16),
        /**
         * Matches one partner report may carry; a larger report is refused with 413 before any work.
         * The default takes any report the body limit lets through: a mass leak is split (inline_max_tokens).
         */
        max_matches: z.int().min(1).max(100_000).default(100_000),
        /**
         * Distinct tokens of one report the intake records (and verifies) before it answers; the rest
         * are sealed in parts of up to 1,000, written to the table and queued, and the worker records
         * them, so a mass leak is answered within seconds and nothing in it is lost.
         */
        inline_max_tokens: z.int().min(1).max(5_000).default(1_000),
        /**
         * Time from a report's arrival after which the intake starts recording no more of its share:
         * the tokens left go to parts too, so a slow store cannot hold the answer past GitHub's wait
         * (or the deployed intake's 25 s).
         */
        record_budget_ms: z.int().min(1_000).max(20_000).default(5_000),
        /**
         * A token its issuer did not know (false_positive) is verified again when reported again, at most
         * once per this period; a token whose type had no issuer is verified as soon as one is configured.
         */
        reverify_after_ms: z
          .int()
          .min(0)
          .max(7 * 24 * 3_600_000)
          .default(3_600_000),
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
    github_app: githubApp.optional(),
    notifications: z
      .object({
        security_contact: z.email().optional(),
        channels: z
          .record(
            z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, "channel names are 1-40 letters, digits, _ or -"),
            channelConfig,
          )
          .default({ email: { kind: "outbox", format: "email" } }),
        /**
         * Base URL of the leaks in the admin console (`<ApiUrl>admin/leaks`), linked from every
         * notification with the leak id appended.
         */
        admin_url: z.url().optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine(
    (config, ctx) => {
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
        const keyHalf = keyHalfOf(type);
        if (keyHalf) {
          ctx.addIssue({
            code: "custom",
            path: ["token_types", type],
            message: `is the secret half of a pair: it names no key by itself, so it is never verified or revoked alone; route "${keyHalf}" instead (its secret is linked to it)`,
          });
        }
        const unrevocable = unrevocableType(type);
        if (unrevocable && (route.mode === "revoke" || route.mode === "revoke_and_rotate")) {
          ctx.addIssue({
            code: "custom",
            path: ["token_types", type, "mode"],
            message: `cannot be ${route.mode}: ${unrevocable.service} offers no API to revoke it; use notify_only (its default) or dry_run`,
          });
        }
        if (!(route.issuer in config.issuers)) {
          ctx.addIssue({
            code: "custom",
            path: ["token_types", type, "issuer"],
            message: `names issuer "${route.issuer}", which is not defined under "issuers"`,
          });
        }
      }
      const channelLists: [string[], (string | number)[]][] = [
        [config.defaults.channels, ["defaults", "channels"]],
      ];
      for (const [type, route] of Object.entries(config.token_types)) {
        if (Array.isArray(route.channels))
          channelLists.push([route.channels, ["token_types", type, "channels"]]);
      }
      for (const [names, path] of channelLists) {
        for (const name of names) {
          if (!(name in config.notifications.channels)) {
            ctx.addIssue({
              code: "custom",
              path,
              message: `names channel "${name}", which is not defined under "notifications.channels"`,
            });
          }
        }
      }
    },
    // Also when other fields are wrong, so that one check names every problem; the sections read
    // here must have their shape, though.
    { when: ({ value }) => crossCheckable(value) },
  );

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** True when the sections the cross-field checks read (types, issuers, channels) have their shape. */
function crossCheckable(value: unknown): boolean {
  if (!isRecord(value) || !isRecord(value.token_types) || !isRecord(value.issuers)) return false;
  if (!Object.values(value.token_types).every(isRecord)) return false;
  const { defaults, notifications } = value;
  return (
    isRecord(defaults) &&
    Array.isArray(defaults.channels) &&
    isRecord(notifications) &&
    isRecord(notifications.channels)
  );
}

export type TourniquetConfigFile = z.infer<typeof configSchema>;
export type HttpIssuerConfig = z.infer<typeof httpIssuer>;
export type AzureAiIssuerConfig = z.infer<typeof azureAiIssuer>;
export type AwsIamIssuerConfig = z.infer<typeof awsIamIssuer>;
export type GithubIssuerConfig = z.infer<typeof githubIssuer>;
export type SlackIssuerConfig = z.infer<typeof slackIssuer>;
export type OpenaiIssuerConfig = z.infer<typeof openaiIssuer>;

/** The config with its secrets resolved: those of the groups asked for (config-secrets.ts); others empty. */
export interface TourniquetConfig extends TourniquetConfigFile {
  /** Issuer secrets by issuer name, resolved from the environment at load. */
  secrets: Record<string, string>;
  /** Channel secrets by channel name (Slack webhook URL, webhook HMAC secret, SMTP password). */
  channelSecrets: Record<string, string>;
  /** The GitHub App's secrets, when `github_app` is configured and its group was resolved. */
  githubAppSecrets?: GithubAppSecrets | undefined;
}

export interface GithubAppSecrets {
  privateKey: string;
  webhookSecret: string;
  /** During a rotation of the webhook secret: the one being replaced. */
  previousWebhookSecret?: string | undefined;
}

export interface Policy {
  mode: PolicyMode;
  channels: string[];
  copy_security_contact: "never" | "failures" | "always";
  /** Resolve the GitHub alerts of a token its issuer does not know as false_positive (never by default). */
  resolve_false_positive_alerts: boolean;
}

/**
 * The policy for a token type: its own settings over the defaults. A type no API can revoke
 * (issuers/unrevocable-types.ts) takes notify_only where the default mode would revoke.
 */
export function policyFor(config: TourniquetConfigFile, tokenType: string): Policy {
  const wanted = tokenType.toLowerCase();
  const route = Object.entries(config.token_types).find(([type]) => type.toLowerCase() === wanted)?.[1];
  const revokes = config.defaults.mode === "revoke" || config.defaults.mode === "revoke_and_rotate";
  const defaultMode = revokes && unrevocableType(tokenType) ? "notify_only" : config.defaults.mode;
  return {
    mode: route?.mode ?? defaultMode,
    channels: route?.channels ?? config.defaults.channels,
    copy_security_contact: route?.copy_security_contact ?? config.defaults.copy_security_contact,
    resolve_false_positive_alerts:
      route?.resolve_false_positive_alerts ?? config.defaults.resolve_false_positive_alerts,
  };
}

type Env = Record<string, string | undefined>;
type ConfigPath = (string | number)[];

const formatPath = (path: readonly PropertyKey[]) => path.map(String).join(".") || "(root)";

const missingVariable = (path: string, name: string) =>
  new ConfigError(`${path}: environment variable ${name} is not set`);

/**
 * `value` with every `${VAR}` and `${VAR:-default}` replaced from `env`. A placeholder whose variable is
 * unset (and has no default) is told to `onMissing` and left empty; by default the first one throws.
 */
export function interpolateEnv(
  value: unknown,
  env: Env,
  onMissing: (path: ConfigPath, name: string) => void = (path, name) => {
    throw missingVariable(formatPath(path), name);
  },
  path: ConfigPath = [],
): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
      // Like the shell's ${VAR:-default}: an empty variable takes the default too.
      const resolved = env[name] || fallback;
      if (resolved === undefined) onMissing(path, name);
      return resolved ?? "";
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, onMissing, [...path, i]));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, onMissing, [...path, k])]),
    );
  }
  return value;
}

/** What checking a config found: the config when it is valid, else every problem (`path: what`). */
export interface ConfigCheck {
  config?: TourniquetConfig | undefined;
  problems: string[];
}

/**
 * Checks the config and resolves the secret references of `groups` from `env`, collecting every
 * problem in one pass: the schema's, `${VAR}` placeholders and secret variables that are not set.
 * The other groups' references are not looked up, so a function need not, and cannot, hold their values.
 */
export function checkConfig(
  raw: unknown,
  env: Env = process.env,
  groups: readonly SecretGroup[] = SECRET_GROUPS,
): ConfigCheck {
  const problems: string[] = [];
  // A placeholder left empty would also fail the field's own rule: its variable is the problem to name.
  const unset = new Set<string>();
  const interpolated = interpolateEnv(raw, env, (path, name) => {
    unset.add(formatPath(path));
    problems.push(missingVariable(formatPath(path), name).message);
  });
  const result = configSchema.safeParse(interpolated);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = formatPath(issue.path);
      if (!unset.has(path)) problems.push(`${path}: ${issue.message}`);
    }
  }
  const refs: (Omit<SecretRefAt, "owner"> & { owner?: string })[] = result.success
    ? secretRefs(result.data)
    : looseSecretRefs(interpolated);
  const resolved: Record<SecretGroup, Record<string, string>> = { issuers: {}, channels: {}, github_app: {} };
  for (const ref of refs) {
    if (!groups.includes(ref.group)) continue;
    const value = env[ref.name];
    if (!value) problems.push(`${ref.path}: environment variable ${ref.name} is not set`);
    else if (ref.owner !== undefined) resolved[ref.group][ref.owner] = value;
  }
  if (!result.success || problems.length > 0) return { problems };
  const config = result.data;
  const app = resolved.github_app;
  const githubAppSecrets =
    config.github_app && groups.includes("github_app")
      ? {
          privateKey: app.privateKey ?? "",
          webhookSecret: app.webhookSecret ?? "",
          ...(app.previousWebhookSecret ? { previousWebhookSecret: app.previousWebhookSecret } : {}),
        }
      : undefined;
  return {
    config: { ...config, secrets: resolved.issuers, channelSecrets: resolved.channels, githubAppSecrets },
    problems: [],
  };
}

/** The problems of a config that failed its check, as one message under `source` (a file, a parameter). */
export function configProblemsMessage(source: string, problems: readonly string[]): string {
  const count = problems.length > 1 ? ` (${problems.length} problems)` : "";
  return `${source} is invalid${count}:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`;
}

/** The config (see checkConfig), or a ConfigError under `source` listing every problem. */
export function parseConfig(
  raw: unknown,
  env: Env = process.env,
  source = "config",
  groups: readonly SecretGroup[] = SECRET_GROUPS,
): TourniquetConfig {
  const { config, problems } = checkConfig(raw, env, groups);
  if (!config) throw new ConfigError(configProblemsMessage(source, problems));
  return config;
}

/** The JSON in `text`, or a ConfigError under `source` naming the line and column of the syntax error. */
export function parseConfigJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${source} is not valid JSON: ${jsonSyntaxError(text, cause as Error)}`, { cause });
  }
}

/** JSON.parse's complaint with the line and column it found it at (Node 20 gives an offset only). */
function jsonSyntaxError(text: string, error: Error): string {
  const message = error.message.replace(/\s*\(line \d+ column \d+\)/, "");
  const at = /at position (\d+)/.exec(message);
  const offset = at ? Number(at[1]) : text.length;
  const before = text.slice(0, offset).split(/\r?\n/);
  const line = before.length;
  const column = (before.at(-1)?.length ?? 0) + 1;
  return `line ${line}, column ${column}: ${message.replace(/\s*in JSON at position \d+/, "")}`;
}

/** The config file at `path`, checked (see checkConfig); throws a ConfigError when it cannot be read or is not JSON. */
export function checkConfigFile(
  path: string,
  env: Env = process.env,
  groups: readonly SecretGroup[] = SECRET_GROUPS,
): ConfigCheck {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    throw new ConfigError(
      `cannot read config file ${path}${code ? ` (${code})` : ""} (set TOURNIQUET_CONFIG)`,
      {
        cause,
      },
    );
  }
  return checkConfig(parseConfigJson(text, `config file ${path}`), env, groups);
}

export function loadConfig(
  path: string,
  env: Env = process.env,
  groups: readonly SecretGroup[] = SECRET_GROUPS,
): TourniquetConfig {
  const { config, problems } = checkConfigFile(path, env, groups);
  if (!config) throw new ConfigError(configProblemsMessage(`config file ${path}`, problems));
  return config;
}

/** The JSON Schema editors use to check a config file (config/tourniquet.schema.json). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }),
    title: "Tourniquet configuration",
    description: "Token types → issuers, intake limits, remediation and notification settings. See README.",
  };
}
