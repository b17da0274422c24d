import { randomBytes } from "node:crypto";
import { SandboxSlack } from "./sandbox/sandbox-slack.js";

// The local stack's fake Slack (Web API and incoming webhooks), served by the stack's own HTTP server
// under /sandbox/slack, so config/local.json's `slack` issuer has api_url
// http://127.0.0.1:PORT/sandbox/slack/api and its webhooks live at …/sandbox/slack/services/ (where the
// issuer looks for them: slackWebhookBase). Tourniquet's bot token (TOURNIQUET_SANDBOX_SLACK_BOT_TOKEN,
// else a fresh one per start) is the fake's own bot with users:read and users:read.email.

export const SLACK_MOUNT = "/sandbox/slack";
export const SLACK_BOT_TOKEN_ENV = "TOURNIQUET_SANDBOX_SLACK_BOT_TOKEN";

export function startLocalSlack(stackUrl: string, env: Record<string, string | undefined>): SandboxSlack {
  const botToken = env[SLACK_BOT_TOKEN_ENV] || `xoxb-${randomBytes(18).toString("hex")}`;
  return new SandboxSlack({ publicUrl: `${stackUrl}${SLACK_MOUNT}`, botToken });
}

/** The part of a request path below the mount, when the request is the fake Slack's. */
export function slackPath(path: string): string | undefined {
  return path.startsWith(`${SLACK_MOUNT}/`) ? path.slice(SLACK_MOUNT.length) : undefined;
}
