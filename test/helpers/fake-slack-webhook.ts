import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { SlackPayload } from "../../lib/notify/channels/slack-webhook-channel.js";
import { type LoopbackServer, readBody, serve } from "./loopback-server.js";

// A stand-in for a Slack incoming webhook on 127.0.0.1: records every request's raw bytes and answers
// like Slack (200 "ok") unless told to answer otherwise, redirect, or hang. Only its secret path is
// served; anything else gets Slack's 404 "no_service".

export type SlackAnswer =
  | { kind: "reply"; status: number; body: string; headers?: Record<string, string> }
  | { kind: "hang" };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export const SLACK_HOOK_PATH = "/services/T0TESTTEAM/B0TESTHOOK/s3cr3tW3bh00kP4thXyz";

export class FakeSlackWebhook {
  readonly requests: RecordedRequest[] = [];
  private readonly answers: SlackAnswer[] = [];

  private constructor(
    private readonly server: LoopbackServer,
    /** The full webhook URL, secret path included. */
    readonly url: string,
  ) {}

  static async start(): Promise<FakeSlackWebhook> {
    let instance: FakeSlackWebhook | undefined;
    const server = await serve((req, res) => void instance?.handle(req, res));
    instance = new FakeSlackWebhook(server, `${server.url}${SLACK_HOOK_PATH}`);
    return instance;
  }

  /** The next request gets this answer (queued; afterwards Slack's 200 "ok" again). */
  answer(status: number, body: string, headers?: Record<string, string>): this {
    this.answers.push({ kind: "reply", status, body, ...(headers ? { headers } : {}) });
    return this;
  }

  /** The next request is read but never answered. */
  hang(): this {
    this.answers.push({ kind: "hang" });
    return this;
  }

  /** Every byte received, all requests together: for "never contains X" checks. */
  get received(): string {
    return this.requests
      .map((r) => `${r.method} ${r.path}\n${JSON.stringify(r.headers)}\n${r.body}`)
      .join("\n");
  }

  /** The last request's body, parsed. */
  lastPayload(): SlackPayload {
    const last = this.requests.at(-1);
    if (!last) throw new Error("no request received");
    return JSON.parse(last.body);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = req.url ?? "/";
    this.requests.push({
      method: req.method ?? "",
      path,
      headers: req.headers,
      body: raw.toString("utf8"),
    });
    if (req.method !== "POST" || path !== SLACK_HOOK_PATH) {
      res.writeHead(404, { "content-type": "text/plain" }).end("no_service");
      return;
    }
    const answer = this.answers.shift() ?? { kind: "reply", status: 200, body: "ok" };
    if (answer.kind === "hang") return; // close() drops the connection
    res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers }).end(answer.body);
  }
}
