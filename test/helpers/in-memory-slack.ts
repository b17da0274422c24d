import { IssuerError } from "../../lib/errors.js";
import type {
  AuthTestAnswer,
  RevokeAnswer,
  SlackApi,
  SlackIdentity,
  WebhookAnswer,
} from "../../lib/issuers/slack/slack-api.js";

// The Slack port in memory, for the issuer's table tests: tokens with their identities, scripted
// answers per method (a Slack error code, or a thrown IssuerError), users' emails, webhooks by URL, and
// a log of calls (method and whether a token was passed, never the token).

type Scripted = { error: string } | { throws: IssuerError };

export class InMemorySlack implements SlackApi {
  readonly tokens = new Map<string, { identity: SlackIdentity; revoked: boolean }>();
  readonly emails = new Map<string, string>();
  readonly webhooks = new Map<string, WebhookAnswer>();
  readonly calls: string[] = [];
  private readonly scripts = new Map<string, Scripted[]>();
  canLookUpUsers = true;

  addToken(token: string, identity: SlackIdentity): void {
    this.tokens.set(token, { identity, revoked: false });
  }

  /** The next `times` calls of `method` answer this (a Slack error code, or a thrown error). */
  script(method: string, answer: Scripted, times = 1): void {
    const queue = this.scripts.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(answer);
    this.scripts.set(method, queue);
  }

  count(method: string): number {
    return this.calls.filter((c) => c === method).length;
  }

  async authTest(token: string): Promise<AuthTestAnswer> {
    const scripted = this.next("auth.test");
    if (scripted) return scripted;
    const known = this.tokens.get(token);
    if (!known || known.revoked) return { error: "invalid_auth" };
    return { identity: known.identity };
  }

  async revoke(token: string): Promise<RevokeAnswer> {
    const scripted = this.next("auth.revoke");
    if (scripted) return scripted;
    const known = this.tokens.get(token);
    if (!known || known.revoked) return { error: "invalid_auth" };
    known.revoked = true;
    return { revoked: true };
  }

  async userEmail(userId: string): Promise<string | undefined> {
    const scripted = this.next("users.info");
    if (scripted)
      throw new IssuerError(`Slack users.info of ${userId}: ${scripted.error}`, { transient: false });
    return this.emails.get(userId);
  }

  async probeWebhook(url: URL): Promise<WebhookAnswer> {
    const scripted = this.next("webhook");
    if (scripted) return { status: 400, code: scripted.error };
    return this.webhooks.get(url.href) ?? { status: 404, code: "no_service" };
  }

  private next(method: string): { error: string } | undefined {
    this.calls.push(method);
    const scripted = this.scripts.get(method)?.shift();
    if (scripted && "throws" in scripted) throw scripted.throws;
    return scripted;
  }
}
