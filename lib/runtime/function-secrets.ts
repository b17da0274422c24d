import type { SecretGroup } from "../config-secrets.js";

// Where each group of the config's secrets lives when deployed, and which function reads which: the
// stack creates and grants exactly these (infra/tourniquet-stack.ts), and each function's wiring reads
// exactly these (aws-config.ts), so a function holds no secret it does not use.

export interface GroupSecret {
  /** The environment variable holding the secret's ARN. */
  variable: string;
  /** The secret is `tourniquet/<stage>/<name>`. */
  name: string;
  /** What it holds, for descriptions and messages. */
  holds: string;
}

/** One Secrets Manager secret per group: a JSON object NAME → value. */
export const GROUP_SECRETS: Record<SecretGroup, GroupSecret> = {
  issuers: { variable: "TOURNIQUET_SECRETS_ARN", name: "secrets", holds: "issuer HMAC secrets" },
  channels: {
    variable: "TOURNIQUET_CHANNEL_SECRETS_ARN",
    name: "channel-secrets",
    holds: "notification channel credentials",
  },
  github_app: {
    variable: "TOURNIQUET_GITHUB_APP_SECRETS_ARN",
    name: "github-app-secrets",
    holds: "GitHub App private key and webhook secrets",
  },
};

/** The groups each function resolves, by its FUNCTION_BUNDLES id; a function not listed reads none. */
export const FUNCTION_SECRET_GROUPS = {
  PartnerReport: ["issuers"],
  // The App's webhook secret (and its key, which the config check builds the App with); no issuer's.
  GithubWebhook: ["github_app"],
  // The App's key: the worker fetches reported alerts' secrets and resolves the alerts.
  Remediate: ["issuers", "channels", "github_app"],
  // To refresh issuers' caches (Azure's key fingerprints), read usage after revocation, and list the
  // App's installations' open alerts.
  Sweep: ["issuers", "github_app"],
} as const satisfies Record<string, readonly SecretGroup[]>;
