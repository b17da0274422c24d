import { randomBytes, randomInt } from "node:crypto";

// What the fake Slack knows: workspaces, their users, the tokens it issued (whose, which kind, which
// scopes, revoked or not) and incoming webhooks. Ids and tokens take Slack's shapes (T…, U…, B…;
// xoxb-…, xoxp-…; hooks' /services/T…/B…/secret).

export type SlackTokenKind = "bot" | "user";

export interface SlackTeam {
  id: string;
  name: string;
  domain: string;
}

export interface SlackUser {
  id: string;
  teamId: string;
  name: string;
  email?: string | undefined;
  botId?: string | undefined;
  deleted: boolean;
}

export interface SlackToken {
  kind: SlackTokenKind;
  teamId: string;
  userId: string;
  botId?: string | undefined;
  appId: string;
  scopes: string[];
  revoked: boolean;
}

export interface SlackHook {
  teamId: string;
  hookId: string;
  /** `removed`: deleted in the app's settings (404 no_service); `disabled`: its token refused (403 invalid_token). */
  state: "live" | "removed" | "disabled";
  posts: number;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const MIXED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const pick = (alphabet: string, length: number) =>
  Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join("");
const digits = (length: number) => Array.from({ length }, () => randomInt(10)).join("");

export const slackId = (prefix: string) => `${prefix}0${pick(ALNUM, 9)}`;

export class SlackWorld {
  readonly teams = new Map<string, SlackTeam>();
  readonly users = new Map<string, SlackUser>();
  readonly tokens = new Map<string, SlackToken>();
  /** By the hook's path after /services/. */
  readonly hooks = new Map<string, SlackHook>();

  addTeam(name = "Acme Workspace", domain = "acme-demo"): SlackTeam {
    const team = { id: slackId("T"), name, domain };
    this.teams.set(team.id, team);
    return team;
  }

  addUser(teamId: string, name: string, options: { email?: string; botId?: string } = {}): SlackUser {
    const user: SlackUser = { id: slackId("U"), teamId, name, deleted: false, ...options };
    this.users.set(user.id, user);
    return user;
  }

  /** A token of a new user (with `email`) or of a new bot user; the token string with what it belongs to. */
  issueToken(
    teamId: string,
    kind: SlackTokenKind,
    options: { name?: string; email?: string; scopes?: string[]; appId?: string } = {},
  ): { token: string; record: SlackToken; user: SlackUser } {
    const botId = kind === "bot" ? slackId("B") : undefined;
    const user = this.addUser(teamId, options.name ?? (kind === "bot" ? "deploy-bot" : "grace"), {
      ...(kind === "user" && options.email ? { email: options.email } : {}),
      ...(botId ? { botId } : {}),
    });
    const token =
      kind === "bot"
        ? `xoxb-${digits(12)}-${digits(13)}-${pick(MIXED, 24)}`
        : `xoxp-${digits(12)}-${digits(12)}-${digits(13)}-${pick("0123456789abcdef", 32)}`;
    const record: SlackToken = {
      kind,
      teamId,
      userId: user.id,
      botId,
      appId: options.appId ?? slackId("A"),
      scopes: options.scopes ?? (kind === "bot" ? ["chat:write"] : ["identify"]),
      revoked: false,
    };
    this.tokens.set(token, record);
    return { token, record, user };
  }

  /** A new incoming webhook: the path after /services/ (team, hook id, secret). */
  addHook(teamId: string): { path: string; hook: SlackHook } {
    const hook: SlackHook = { teamId, hookId: slackId("B"), state: "live", posts: 0 };
    const path = `${teamId}/${hook.hookId}/${pick(MIXED, 24)}`;
    this.hooks.set(path, hook);
    return { path, hook };
  }
}
