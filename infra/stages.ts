import { readFileSync } from "node:fs";
import { z } from "zod";
import { adminAccessSchema } from "../lib/admin/admin-access.js";

// Per-stage deployment settings: infra/stages.json (one entry per stage name), overridable by CDK
// context `-c stageSettings='{"alarmEmail":"…"}'`. Validated at synth; a bad value stops the synth
// with a message naming the stage and the field.

/** Log retention values CloudWatch accepts (days). */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * An IAM role ARN in one of the partitions Tourniquet deploys to, with an optional path; no wildcards
 * (`\w` and the listed punctuation are IAM's role-name characters, which `*` and `?` are not).
 */
export const ROLE_ARN_PATTERN =
  /^arn:(aws|aws-cn|aws-us-gov):iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/**
 * AWS access keys (the `aws_iam` issuer): which responder roles the functions that verify AWS keys may
 * assume (the config's `accounts.*.role_arn`; the config is put after deploy, so the stack cannot read
 * them from it), and whether the account Tourniquet runs in has keys to act on with the functions' own
 * role (the config's account without `role_arn`).
 */
export const awsIamSettingsSchema = z
  .object({
    responderRoles: z
      .array(
        z
          .string()
          .regex(
            ROLE_ARN_PATTERN,
            "must be an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>), no wildcards",
          ),
      )
      .default([])
      .refine((roles) => new Set(roles).size === roles.length, "names a role twice")
      .refine(
        (roles) => new Set(roles.map((arn) => arn.split(":")[1])).size <= 1,
        "mixes partitions: a stack runs in one partition and can assume roles of that partition only",
      ),
    ownAccount: z.boolean().default(false),
  })
  .strict()
  .refine(
    (aws) => aws.responderRoles.length > 0 || aws.ownAccount,
    "grants nothing: name at least one responder role, or set ownAccount (or leave awsIam out)",
  );

export type AwsIamSettings = z.infer<typeof awsIamSettingsSchema>;

const httpsUrl = z.url({ protocol: /^https$/ });

/**
 * The console's sign-in with an external OIDC issuer (Entra ID, Okta, Google …): a public client
 * registered there for the authorization code flow with PKCE, whose redirect URI is the API's
 * `<ApiUrl>admin/callback`. Which token the console presents must be one the JWT authorizer accepts (its
 * `aud` among `jwt.audience`).
 */
export const externalConsoleSignInSchema = z
  .object({
    clientId: z.string().min(1).max(256),
    authorizationEndpoint: httpsUrl,
    tokenEndpoint: httpsUrl,
    endSessionEndpoint: httpsUrl.optional(),
    scopes: z.array(z.string().min(1)).min(1).default(["openid", "profile", "email"]),
    /** The token sent to the admin API: the access token (default) or the ID token. */
    token: z.enum(["access_token", "id_token"]).default("access_token"),
  })
  .strict();

/** Cognito hosted sign-in for the console, when the stack creates the user pool. */
export const consoleSettingsSchema = z
  .object({
    /**
     * The hosted sign-in domain's prefix (`<prefix>.auth.<region>.amazoncognito.com`), unique in the
     * region; default `tourniquet-<stage>-<account id>`.
     */
    cognitoDomainPrefix: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "must be lowercase letters, digits and hyphens")
      .refine((p) => !/aws|amazon|cognito/.test(p), "must not contain aws, amazon or cognito")
      .optional(),
    /**
     * Other origins the console is served from (a custom domain, `https://admin.example.com`), beside
     * the API's own: the sign-in may return to their `/admin/callback`, the sign-out to their `/admin`.
     */
    origins: z
      .array(httpsUrl.refine((url) => new URL(url).pathname === "/", "must be an origin, without a path"))
      .default([]),
  })
  .strict();

export const stageSettingsSchema = z
  .object({
    /** SES identity (domain or address) the worker may send from; no SES permission when absent. */
    sesIdentity: z.string().min(3).optional(),
    /** Email subscribed to the alarm topic (confirm the subscription once). */
    alarmEmail: z.email().optional(),
    /** An existing OIDC issuer for the admin API; without it the stack creates a Cognito user pool. */
    jwt: z
      .object({
        issuer: z.url({ protocol: /^https$/ }),
        audience: z.array(z.string().min(1)).min(1),
        /** How the console signs in with this issuer; without it the console cannot sign anyone in. */
        console: externalConsoleSignInSchema.optional(),
      })
      .strict()
      .optional(),
    /** The admin console at /admin/ with the user pool the stack creates (ignored with `jwt`). */
    console: consoleSettingsSchema.prefault({}),
    /**
     * Who may use the admin API among those the JWT authorizer lets through: the token claim and its
     * values that may read, and those that may also retry and dismiss (default Cognito groups).
     */
    adminAccess: adminAccessSchema.prefault({}),
    /**
     * AWS access keys: the responder roles to assume and whether to act in Tourniquet's own account.
     * Absent: no function gets any STS or IAM permission, and an `aws_iam` issuer fails with AccessDenied.
     */
    awsIam: awsIamSettingsSchema.optional(),
    /** API Gateway stage throttling (requests per second, burst). */
    throttle: z
      .object({ rateLimit: z.number().positive().max(10_000), burstLimit: z.int().positive().max(5_000) })
      .strict()
      .prefault({ rateLimit: 50, burstLimit: 100 }),
    logRetentionDays: z
      .union(
        RETENTION_DAYS.map((days) => z.literal(days)) as unknown as [
          z.ZodLiteral<number>,
          ...z.ZodLiteral<number>[],
        ],
      )
      .default(90),
    logLevel: z.enum(["DEBUG", "INFO", "WARN", "ERROR"]).default("INFO"),
    /** Time-to-revoke p99 alarm threshold, milliseconds. */
    timeToRevokeTargetMs: z.int().positive().default(250),
  })
  .strict();

export type StageSettings = z.infer<typeof stageSettingsSchema>;

const STAGES_FILE = new URL("./stages.json", import.meta.url);

/** Reads infra/stages.json. */
export function readStagesFile(): Record<string, unknown> {
  return JSON.parse(readFileSync(STAGES_FILE, "utf8")) as Record<string, unknown>;
}

/**
 * The settings for `stage`: its entry in the stages file, with `overrides` (from context) on top.
 * A stage with no entry takes the defaults.
 */
export function resolveStageSettings(
  stage: string,
  stages: Record<string, unknown> = readStagesFile(),
  overrides: unknown = undefined,
): StageSettings {
  const fromFile = stages[stage] ?? {};
  const extra = typeof overrides === "string" ? (JSON.parse(overrides) as unknown) : (overrides ?? {});
  const result = stageSettingsSchema.safeParse({ ...(fromFile as object), ...(extra as object) });
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `  - ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new Error(
      `Invalid settings for stage "${stage}" (infra/stages.json or -c stageSettings):\n${problems.join("\n")}`,
    );
  }
  return result.data;
}
