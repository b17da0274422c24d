import type { TourniquetConfigFile } from "./config.js";

// The config's secret references ({"env": NAME}), grouped by who uses them, so that each deployed
// function resolves, and may read, only its own: every function that verifies or revokes needs the
// issuers' secrets (HMAC secrets, Azure client secrets); only the worker the channels' credentials (Slack webhook URL, webhook HMAC
// secret, SMTP password); only the GitHub webhook the App's private key and webhook secrets.

export const SECRET_GROUPS = ["issuers", "channels", "github_app"] as const;
export type SecretGroup = (typeof SECRET_GROUPS)[number];

export interface SecretRefAt {
  group: SecretGroup;
  /** Whose secret: the issuer or channel name; for the App, the field of GithubAppSecrets. */
  owner: string;
  /** Where the reference sits in the config, for messages: `issuers.acme.secret`. */
  path: string;
  /** The variable (or key of a deployed secret) holding the value. */
  name: string;
}

/** Every secret reference of the config, in config order. */
export function secretRefs(config: TourniquetConfigFile): SecretRefAt[] {
  const refs: SecretRefAt[] = [];
  for (const [name, issuer] of Object.entries(config.issuers)) {
    const field = issuerSecretField(issuer);
    if (field) {
      const [key, ref] = field;
      refs.push({ group: "issuers", owner: name, path: `issuers.${name}.${key}`, name: ref.env });
    }
  }
  for (const [name, channel] of Object.entries(config.notifications.channels)) {
    const field =
      channel.kind === "slack"
        ? (["webhook_url", channel.webhook_url] as const)
        : channel.kind === "webhook"
          ? (["secret", channel.secret] as const)
          : channel.kind === "smtp" && channel.password
            ? (["password", channel.password] as const)
            : undefined;
    if (field) {
      const [key, ref] = field;
      refs.push({
        group: "channels",
        owner: name,
        path: `notifications.channels.${name}.${key}`,
        name: ref.env,
      });
    }
  }
  const app = config.github_app;
  if (app) {
    const fields = [
      ["privateKey", "private_key", app.private_key],
      ["webhookSecret", "webhook_secret", app.webhook_secret],
      ["previousWebhookSecret", "previous_webhook_secret", app.previous_webhook_secret],
    ] as const;
    for (const [owner, key, ref] of fields) {
      if (ref) refs.push({ group: "github_app", owner, path: `github_app.${key}`, name: ref.env });
    }
  }
  return refs;
}

const GROUP_OF_SECTION: Record<string, SecretGroup> = {
  issuers: "issuers",
  notifications: "channels",
  github_app: "github_app",
};

/**
 * The secret references (`{"env": NAME}` objects) of a config that did not pass its schema, found by
 * their shape, so that a check can name unset variables beside the schema's problems.
 */
export function looseSecretRefs(raw: unknown): Omit<SecretRefAt, "owner">[] {
  const refs: Omit<SecretRefAt, "owner">[] = [];
  const visit = (value: unknown, path: string[]) => {
    if (!value || typeof value !== "object") return;
    const entries = Object.entries(value);
    const [only] = entries;
    const group = GROUP_OF_SECTION[path[0] ?? ""];
    if (entries.length === 1 && only?.[0] === "env" && typeof only[1] === "string") {
      if (group) refs.push({ group, path: path.join("."), name: only[1] });
      return;
    }
    for (const [key, child] of entries) visit(child, [...path, key]);
  };
  visit(raw, []);
  return refs;
}

type IssuerSettings = TourniquetConfigFile["issuers"][string];

/**
 * The one secret an issuer has, with its field name, if any: the HTTP issuer's HMAC secret, the Azure
 * service principal's, the OpenAI admin key, Slack's optional bot token. GitHub's credentials API and the
 * AWS issuer need none (AWS acts with the function's own role and the responder roles it assumes).
 */
export function issuerSecretField(issuer: IssuerSettings): readonly [string, { env: string }] | undefined {
  switch (issuer.kind) {
    case "http":
      return ["secret", issuer.secret];
    case "azure_ai":
      return ["client_secret", issuer.client_secret];
    case "openai":
      return ["admin_key", issuer.admin_key];
    case "slack":
      return issuer.bot_token ? ["bot_token", issuer.bot_token] : undefined;
    case "aws_iam":
    case "github":
      return undefined;
  }
}
