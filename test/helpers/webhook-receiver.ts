import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { checkIssuerRequestSignature, type SignatureCheck } from "../../lib/issuers/http-issuer-signature.js";
import { type LoopbackServer, readBody, serve } from "./loopback-server.js";

// An operator's notification endpoint on 127.0.0.1, built the way docs/notification-webhooks.md tells
// receivers to: verify the HMAC over the raw body (401 otherwise), then answer. It records every
// request with its signature check, and can answer any status or hang.

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  check: SignatureCheck;
  /** The parsed payload, when the signature verified. */
  payload?: Record<string, unknown>;
}

type Answer =
  | { kind: "reply"; status: number; body: string; headers?: Record<string, string> }
  | { kind: "hang" };

export class WebhookReceiver {
  readonly requests: ReceivedWebhook[] = [];
  /** Signature-check clock, in seconds; defaults to the real clock. */
  nowSeconds: () => number = () => Math.floor(Date.now() / 1000);
  private readonly answers: Answer[] = [];

  private constructor(
    private readonly server: LoopbackServer,
    readonly url: string,
    private readonly secret: string,
  ) {}

  static async start(secret: string): Promise<WebhookReceiver> {
    let instance: WebhookReceiver | undefined;
    const server = await serve((req, res) => void instance?.handle(req, res));
    instance = new WebhookReceiver(server, `${server.url}/hooks/tourniquet`, secret);
    return instance;
  }

  /** The next correctly signed request gets this answer (queued; afterwards 204). */
  answer(status: number, body = "", headers?: Record<string, string>): this {
    this.answers.push({ kind: "reply", status, body, ...(headers ? { headers } : {}) });
    return this;
  }

  hang(): this {
    this.answers.push({ kind: "hang" });
    return this;
  }

  /** Payloads of the requests whose signature verified. */
  get payloads(): Record<string, unknown>[] {
    return this.requests.flatMap((r) => (r.payload ? [r.payload] : []));
  }

  /** Every byte received: for "never contains X" checks. */
  get received(): string {
    return this.requests.map((r) => `${JSON.stringify(r.headers)}\n${r.body}`).join("\n");
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const body = raw.toString("utf8");
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const check = checkIssuerRequestSignature({
      secret: this.secret,
      signature: header("tourniquet-signature"),
      timestamp: header("tourniquet-timestamp"),
      requestId: header("tourniquet-request-id"),
      body,
      nowSeconds: this.nowSeconds(),
    });
    const record: ReceivedWebhook = { headers: req.headers, body, check };
    this.requests.push(record);
    if (!check.ok) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "bad_signature", message: `signature ${check.reason}` }));
      return;
    }
    record.payload = JSON.parse(body) as Record<string, unknown>;
    const answer = this.answers.shift() ?? { kind: "reply", status: 204, body: "" };
    if (answer.kind === "hang") return;
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers }).end(answer.body);
  }
}
