import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { readTextOr413 } from "./sandbox-server.js";
import {
  type SlackHook,
  type SlackTeam,
  type SlackToken,
  type SlackTokenKind,
  SlackWorld,
} from "./sandbox-slack-state.js";

// A loopback fake of Slack's Web API and incoming webhooks, mounted by the local stack at /sandbox/slack
// (local/local-slack.ts) and by tests on their own server. Paths are relative to its mount:
// - `POST|GET /api/<method>`: form-encoded, JSON or query arguments; the token from
//   `Authorization: Bearer` or a `token` argument (JSON bodies: the header only, as Slack says). Always
//   HTTP 200 with `{"ok": false, "error": …}` for refusals; HTTP 429 with Retry-After and
//   `{"ok": false, "error": "ratelimited"}` when a fault says so. Methods: auth.test, auth.revoke
//   (`test=1`: nothing revoked, `revoked: false`), users.info (needs users:read; the email
//   users:read.email);
// - `POST /services/T…/B…/<secret>`: an incoming webhook, answering in plain text as Slack does
//   (200 `ok`; 400 `invalid_payload` / `no_text`; 404 `no_service`; 403 `invalid_token`);
// - `POST /tokens` `{"kind": "bot"|"user"|"webhook"}`: a live token (or webhook URL) for `simulate`.
// Faults: the next N answers of a method (or of `webhook`) fail with an error, a status, or a delay. The
// call log holds methods, outcomes and ids, never a token or a webhook's secret.

export type { SlackHook, SlackTeam, SlackToken, SlackTokenKind } from "./sandbox-slack-state.js";

export const DEMO_SLACK_OWNER = "grace@acme.example";

export interface SlackFault {
  /** Slack's error code for a 200 `ok: false` answer (or the plain-text body of a webhook's). */
  error?: string | undefined;
  /** HTTP status; 429 answers `ratelimited` with `retryAfter`. */
  status?: number | undefined;
  /** Retry-After (seconds, or an HTTP-date) of a 429. */
  retryAfter?: string | undefined;
  /** Wait this long before answering (to trip client timeouts). */
  delayMs?: number | undefined;
}

export interface SlackCall {
  /** `auth.test`, `auth.revoke`, `users.info`, `webhook`, or the unknown method's name. */
  method: string;
  status: number;
  ok: boolean;
  error?: string | undefined;
  /** Whose token (team:user) or which hook (team/hook), when known. */
  subject?: string | undefined;
  /** auth.revoke in test mode. */
  test?: boolean | undefined;
}

interface Reply {
  status: number;
  body: string;
  contentType: string;
  headers?: Record<string, string>;
}

export interface SandboxSlackOptions {
  /** Where the fake is reachable, e.g. http://127.0.0.1:3000/sandbox/slack: webhook URLs are made from it. */
  publicUrl: string;
  /** The bot token Tourniquet's config holds (bot_token), with users:read and users:read.email. */
  botToken?: string | undefined;
}

export class SandboxSlack {
  readonly world = new SlackWorld();
  readonly calls: SlackCall[] = [];
  readonly team: SlackTeam;
  /** Tourniquet's own bot token (users.info), issued in the demo workspace. */
  readonly botToken: string;
  private publicUrl: string;
  private readonly faults = new Map<string, SlackFault[]>();

  constructor(options: SandboxSlackOptions) {
    this.publicUrl = options.publicUrl.replace(/\/+$/, "");
    this.team = this.world.addTeam();
    const bot = this.world.issueToken(this.team.id, "bot", {
      name: "tourniquet",
      scopes: ["users:read", "users:read.email"],
    });
    if (options.botToken) {
      this.world.tokens.delete(bot.token);
      this.world.tokens.set(options.botToken, bot.record);
      this.botToken = options.botToken;
    } else {
      this.botToken = bot.token;
    }
  }

  get apiUrl(): string {
    return `${this.publicUrl}/api`;
  }

  /** Once the mount's port is known (a test's own server). */
  setPublicUrl(url: string): void {
    this.publicUrl = url.replace(/\/+$/, "");
  }

  // Seeding.

  /** A live token of a new user (with an email) or bot user in the demo workspace. */
  issueToken(
    kind: SlackTokenKind,
    options: { name?: string; email?: string; scopes?: string[] } = {},
  ): {
    token: string;
    teamId: string;
    userId: string;
    botId?: string | undefined;
    email?: string | undefined;
  } {
    const { token, record, user } = this.world.issueToken(this.team.id, kind, {
      ...options,
      email: options.email ?? (kind === "user" ? DEMO_SLACK_OWNER : undefined),
    });
    return { token, teamId: record.teamId, userId: record.userId, botId: record.botId, email: user.email };
  }

  /** A live incoming webhook of the demo workspace: its full URL (the secret) and its ids. */
  addWebhook(): { url: string; teamId: string; hookId: string } {
    const { path, hook } = this.world.addHook(this.team.id);
    return { url: `${this.publicUrl}/services/${path}`, teamId: hook.teamId, hookId: hook.hookId };
  }

  token(token: string): SlackToken | undefined {
    return this.world.tokens.get(token);
  }

  hook(url: string): SlackHook | undefined {
    return this.world.hooks.get(url.slice(`${this.publicUrl}/services/`.length));
  }

  /** The token's user is deactivated: its tokens answer account_inactive. */
  deactivateUser(token: string): void {
    const record = this.world.tokens.get(token);
    const user = record && this.world.users.get(record.userId);
    if (user) user.deleted = true;
  }

  // Faults.

  /** The next `times` answers of `method` (`auth.test`, …, or `webhook`) take `fault`. */
  fail(method: string, fault: SlackFault, times = 1): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(method, queue);
  }

  recover(): void {
    this.faults.clear();
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  // Serving.

  /** Answers a request; `path` is below the mount (`/api/auth.test`, `/services/…`, `/tokens`). */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const body = await readTextOr413(req, res);
    if (body === undefined) return;
    const url = new URL(req.url ?? "/", "http://fake");
    const reply = await this.answer(req, path, url, body);
    if (res.destroyed) return;
    res.writeHead(reply.status, { "content-type": reply.contentType, ...reply.headers }).end(reply.body);
  }

  private async answer(req: IncomingMessage, path: string, url: URL, body: string): Promise<Reply> {
    if (path === "/tokens" && req.method === "POST") return this.seed(body);
    if (path.startsWith("/services/") && req.method === "POST") {
      return this.webhook(path.slice("/services/".length), req, body);
    }
    const method = /^\/api\/([A-Za-z][A-Za-z0-9.]{0,80})$/.exec(path)?.[1];
    if (!method || (req.method !== "POST" && req.method !== "GET")) {
      return json(404, { ok: false, error: "unknown_method" });
    }
    const args = readArgs(req, url, body);
    if (!args) {
      return this.logged(
        { method, status: 200, ok: false, error: "invalid_json" },
        json(200, { ok: false, error: "invalid_json" }),
      );
    }
    const fault = await this.takeFault(method);
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const token = bearer ?? (typeof args.token === "string" ? args.token : undefined);
    const record = token ? this.world.tokens.get(token) : undefined;
    const subject = record ? `${record.teamId}:${record.userId}` : undefined;
    if (fault?.status === 429) {
      const reply = json(
        429,
        { ok: false, error: "ratelimited" },
        { "retry-after": fault.retryAfter ?? "1" },
      );
      return this.logged({ method, status: 429, ok: false, error: "ratelimited", subject }, reply);
    }
    if (fault?.status && fault.status !== 200) {
      return this.logged(
        { method, status: fault.status, ok: false, subject },
        text(fault.status, "upstream error"),
      );
    }
    const result = fault?.error ? { ok: false, error: fault.error } : this.call(method, token, record, args);
    const test = method === "auth.revoke" && isTrue(args.test) ? true : undefined;
    return this.logged(
      {
        method,
        status: 200,
        ok: result.ok === true,
        error: result.ok ? undefined : String(result.error),
        subject,
        test,
      },
      json(200, result),
    );
  }

  private call(
    method: string,
    token: string | undefined,
    record: SlackToken | undefined,
    args: Record<string, unknown>,
  ): Record<string, unknown> {
    const known = ["auth.test", "auth.revoke", "users.info"];
    if (!known.includes(method)) return { ok: false, error: "unknown_method" };
    if (!token) return { ok: false, error: "not_authed" };
    if (!record || record.revoked) return { ok: false, error: "invalid_auth" };
    const user = this.world.users.get(record.userId);
    if (user?.deleted)
      return { ok: false, error: record.kind === "bot" ? "account_inactive" : "token_revoked" };
    const team = this.world.teams.get(record.teamId);
    switch (method) {
      case "auth.test":
        return {
          ok: true,
          url: `https://${team?.domain ?? "workspace"}.slack.com/`,
          team: team?.name,
          user: user?.name,
          team_id: record.teamId,
          user_id: record.userId,
          ...(record.botId ? { bot_id: record.botId } : {}),
          is_enterprise_install: false,
        };
      case "auth.revoke": {
        if (isTrue(args.test)) return { ok: true, revoked: false };
        record.revoked = true;
        return { ok: true, revoked: true };
      }
      default: {
        if (!record.scopes.includes("users:read")) {
          return {
            ok: false,
            error: "missing_scope",
            needed: "users:read",
            provided: record.scopes.join(","),
          };
        }
        const wanted = typeof args.user === "string" ? this.world.users.get(args.user) : undefined;
        if (!wanted || wanted.teamId !== record.teamId) return { ok: false, error: "user_not_found" };
        const email = record.scopes.includes("users:read.email") ? wanted.email : undefined;
        return {
          ok: true,
          user: {
            id: wanted.id,
            team_id: wanted.teamId,
            name: wanted.name,
            deleted: wanted.deleted,
            is_bot: Boolean(wanted.botId),
            profile: { real_name: wanted.name, ...(email ? { email } : {}) },
          },
        };
      }
    }
  }

  private async webhook(path: string, req: IncomingMessage, body: string): Promise<Reply> {
    const hook = this.world.hooks.get(path);
    const subject = hook ? `${hook.teamId}/${hook.hookId}` : undefined;
    const fault = await this.takeFault("webhook");
    if (fault?.status) {
      const headers: Record<string, string> =
        fault.status === 429 ? { "retry-after": fault.retryAfter ?? "1" } : {};
      const error = fault.error ?? (fault.status === 429 ? "rate_limited" : "rollup_error");
      return this.logged(
        { method: "webhook", status: fault.status, ok: false, error, subject },
        text(fault.status, error, headers),
      );
    }
    const refuse = (status: number, error: string) =>
      this.logged({ method: "webhook", status, ok: false, error, subject }, text(status, error));
    if (!hook || hook.state === "removed") return refuse(404, "no_service");
    if (hook.state === "disabled") return refuse(403, "invalid_token");
    let payload: unknown;
    try {
      const type = req.headers["content-type"] ?? "";
      payload = type.includes("application/x-www-form-urlencoded")
        ? JSON.parse(new URLSearchParams(body).get("payload") ?? "")
        : JSON.parse(body);
    } catch {
      return refuse(400, "invalid_payload");
    }
    const p = (payload ?? {}) as { text?: unknown; blocks?: unknown; attachments?: unknown };
    const hasText = typeof p.text === "string" && p.text.trim() !== "";
    if (!hasText && !Array.isArray(p.blocks) && !Array.isArray(p.attachments)) return refuse(400, "no_text");
    hook.posts += 1;
    return this.logged({ method: "webhook", status: 200, ok: true, subject }, text(200, "ok"));
  }

  /** `POST /tokens` `{kind}`: a live bot or user token, or an incoming webhook URL, for `simulate`. */
  private seed(body: string): Reply {
    let kind: unknown;
    try {
      kind = (JSON.parse(body || "{}") as { kind?: unknown }).kind ?? "user";
    } catch {
      return json(400, { error: "bad_request", message: "body must be JSON" });
    }
    if (kind === "webhook") {
      const hook = this.addWebhook();
      return json(201, {
        url: hook.url,
        team_id: hook.teamId,
        webhook_id: hook.hookId,
        team: this.team.name,
      });
    }
    if (kind !== "bot" && kind !== "user") {
      return json(400, { error: "bad_request", message: 'kind must be "bot", "user" or "webhook"' });
    }
    const issued = this.issueToken(kind);
    return json(201, {
      token: issued.token,
      team_id: issued.teamId,
      team: this.team.name,
      user_id: issued.userId,
      ...(issued.botId ? { bot_id: issued.botId } : {}),
      ...(issued.email ? { email: issued.email } : {}),
    });
  }

  private async takeFault(method: string): Promise<SlackFault | undefined> {
    const fault = this.faults.get(method)?.shift();
    if (fault?.delayMs) await sleep(fault.delayMs);
    return fault;
  }

  private logged(call: SlackCall, reply: Reply): Reply {
    this.calls.push(call);
    return reply;
  }
}

function readArgs(req: IncomingMessage, url: URL, body: string): Record<string, unknown> | undefined {
  const args: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const type = req.headers["content-type"] ?? "";
  if (type.includes("application/json")) {
    try {
      const parsed = JSON.parse(body || "{}") as unknown;
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
      // Slack takes a JSON body's token from the Authorization header only.
      const { token: _ignored, ...rest } = parsed as Record<string, unknown>;
      return { ...args, ...rest };
    } catch {
      return undefined;
    }
  }
  return { ...args, ...Object.fromEntries(new URLSearchParams(body)) };
}

const isTrue = (value: unknown) => value === true || value === "1" || value === "true" || value === 1;

const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body: JSON.stringify(body),
  contentType: "application/json; charset=utf-8",
  headers,
});

const text = (status: number, body: string, headers?: Record<string, string>): Reply => ({
  status,
  body,
  contentType: "text/html",
  headers,
});
