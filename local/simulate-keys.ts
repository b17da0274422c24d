import { redactToken } from "../lib/intake/fingerprint.js";
import type { DemoAzureKey, DemoKind } from "./sandbox/sandbox-azure-demo.js";

// The live key `tourniquet simulate` leaks, per token type: a sandbox issuer key, a key of a new demo
// account in the local fake Azure, an IAM user's key pair in the local fake AWS, or a Slack user token or
// incoming webhook URL of the local fake Slack's demo workspace. Only previews of
// secrets are ever printed.

export const SANDBOX_TOKEN_TYPE = "tourniquet_sandbox_token";
const AZURE_KINDS: Record<string, DemoKind> = {
  azure_openai_key: "OpenAI",
  azure_ai_services_key: "AIServices",
  azure_cognitive_services_key: "CognitiveServices",
};
export const AWS_KEY_TYPE = "aws_access_key_id";
export const OPENAI_KEY_TYPE = "openai_api_key";
export const SLACK_TOKEN_TYPE = "slack_api_token";
export const SLACK_WEBHOOK_TYPE = "slack_incoming_webhook_url";
/** GitHub token types → the prefix of the token the local fake GitHub issues for them. */
const GITHUB_KINDS: Record<string, string> = {
  github_personal_access_token: "ghp",
  github_oauth_access_token: "gho",
};
export const SIMULATE_TYPES = [
  SANDBOX_TOKEN_TYPE,
  ...Object.keys(AZURE_KINDS),
  AWS_KEY_TYPE,
  OPENAI_KEY_TYPE,
  SLACK_TOKEN_TYPE,
  SLACK_WEBHOOK_TYPE,
  ...Object.keys(GITHUB_KINDS),
];

export interface IssuedKey {
  token: string;
  /** What was issued, for the first line of output. */
  description: string;
  /** Other matches leaked with the token in the same file (an AWS key's secret half). */
  companions?: { token: string; type: string }[];
}

export type Requester = <T>(url: string, init: RequestInit) => Promise<T>;

export async function issueKey(url: string, type: string, request: Requester): Promise<IssuedKey> {
  const post = (path: string, body: unknown) =>
    request(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  if (type === SANDBOX_TOKEN_TYPE) {
    const key = (await post("/sandbox/keys", {
      owner: { email: "owner@example.test", name: "Demo Owner" },
    })) as { token: string; key_id: string };
    return { token: key.token, description: `sandbox key ${key.key_id} (${redactToken(key.token)})` };
  }
  if (type === AWS_KEY_TYPE) {
    // An IAM user's key in the fake AWS, leaked as GitHub finds it: key id and secret in one file.
    const key = (await post("/sandbox/aws/keys", {})) as {
      access_key_id: string;
      secret_access_key: string;
      account: string;
      user: string;
    };
    return {
      token: key.access_key_id,
      description: `AWS access key ${key.access_key_id} of IAM user ${key.user} in account ${key.account}, with its secret (${redactToken(key.secret_access_key)})`,
      companions: [{ token: key.secret_access_key, type: "aws_secret_access_key" }],
    };
  }
  if (type === OPENAI_KEY_TYPE) {
    // A user's project API key in the fake OpenAI organisation, with some use in the last hours.
    const key = (await post("/sandbox/openai/keys", { owner_email: "owner@example.test" })) as {
      key: string;
      project_id: string;
      api_key_id: string;
    };
    return {
      token: key.key,
      description: `OpenAI project API key ${key.api_key_id} of project ${key.project_id} (${redactToken(key.key)}), owner owner@example.test`,
    };
  }
  if (type === SLACK_TOKEN_TYPE) {
    // A user token of a person in the fake Slack's demo workspace: its owner is found through users.info.
    const key = (await post("/sandbox/slack/tokens", { kind: "user" })) as {
      token: string;
      team: string;
      team_id: string;
      user_id: string;
      email?: string;
    };
    return {
      token: key.token,
      description: `Slack user token (${redactToken(key.token)}) of ${key.user_id}${key.email ? ` <${key.email}>` : ""} in workspace ${key.team} (${key.team_id})`,
    };
  }
  if (type === SLACK_WEBHOOK_TYPE) {
    const hook = (await post("/sandbox/slack/tokens", { kind: "webhook" })) as {
      url: string;
      team: string;
      team_id: string;
      webhook_id: string;
    };
    return {
      token: hook.url,
      description: `Slack incoming webhook ${hook.team_id}/${hook.webhook_id} of workspace ${hook.team} (${redactToken(hook.url)})`,
    };
  }
  const githubPrefix = GITHUB_KINDS[type];
  if (githubPrefix) {
    // A user's token in the local fake GitHub.
    const issued = (await post("/sandbox/github/tokens", { prefix: githubPrefix })) as {
      token: string;
      login: string;
      id: number;
    };
    return {
      token: issued.token,
      description: `GitHub token ${redactToken(issued.token)} of user ${issued.login} (id ${issued.id})`,
    };
  }
  const kind = AZURE_KINDS[type];
  if (!kind) throw new Error(`simulate knows no token type ${type}; use one of ${SIMULATE_TYPES.join(", ")}`);
  const key = (await post("/sandbox/azure/keys", { kind })) as DemoAzureKey;
  return {
    token: key.key,
    description: `Azure ${kind} key ${key.key_name} of account ${key.name} (${redactToken(key.key)}), owner ${key.owner} by its tags`,
  };
}
