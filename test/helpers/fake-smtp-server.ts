import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

// A mail relay on 127.0.0.1 built on smtp-server (nodemailer's own server library): no auth; STARTTLS
// only when started with a certificate; records each accepted message's raw bytes and whether it came
// over TLS, and can refuse at RCPT TO or DATA with any reply code.

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** The session was upgraded with STARTTLS before the message. */
  secure: boolean;
}

export interface FakeSmtpOptions {
  /** Offer STARTTLS with this key and certificate (PEM); without it the relay speaks plain SMTP only. */
  tls?: { key: string; cert: string };
}

export interface Refusal {
  at: "rcpt" | "data";
  code: number;
  message: string;
}

export class FakeSmtpServer {
  readonly messages: ReceivedMail[] = [];
  /** Applies to every session until cleared. */
  refusal: Refusal | undefined;
  /** Awaited at each RCPT TO before it is answered: a test may kill the sender meanwhile. */
  atRecipient: (() => Promise<void>) | undefined;

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(options: FakeSmtpOptions = {}): Promise<FakeSmtpServer> {
    let instance: FakeSmtpServer | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: options.tls ? ["AUTH"] : ["AUTH", "STARTTLS"],
      ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
      logger: false,
      onRcptTo: (_address, _session, callback) => {
        void Promise.resolve(instance?.atRecipient?.()).then(() => callback(instance?.refuse("rcpt")));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          const refused = instance?.refuse("data");
          if (refused) return callback(refused);
          instance?.messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString("utf8"),
            secure: session.secure,
          });
          callback(null, `queued as Q${instance?.messages.length}`);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    // A client that vanishes mid-session (killed by a test) is a socket error, not the test's failure.
    server.on("error", () => {});
    instance = new FakeSmtpServer(server, (server.server.address() as AddressInfo).port);
    return instance;
  }

  /** Every message received, raw and decoded: for "never contains X" checks. */
  get received(): string {
    return this.messages.map((m) => `${m.raw}\n${decodeMime(m.raw)}`).join("\n");
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private refuse(at: Refusal["at"]): (Error & { responseCode: number }) | null {
    if (this.refusal?.at !== at) return null;
    return Object.assign(new Error(this.refusal.message), { responseCode: this.refusal.code });
  }
}

/** Headers (encoded words decoded) and every leaf part's body (transfer encoding undone), as LF text. */
export function decodeMime(message: string): string {
  const raw = message.replaceAll("\r\n", "\n");
  const split = raw.indexOf("\n\n");
  const head = (split < 0 ? raw : raw.slice(0, split)).replace(/\n[ \t]+/g, " ");
  const body = split < 0 ? "" : raw.slice(split + 2);
  const headers = head.replace(
    /=\?utf-8\?([QB])\?([^?]*)\?=(?:[ \t]+(?==\?))?/gi,
    (_m, kind: string, text: string) =>
      kind.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : decodeQuotedPrintable(text.replaceAll("_", " ")),
  );
  const boundary = /content-type:\s*multipart\/[^;]+;.*boundary="?([^";\n]+)"?/i.exec(headers)?.[1];
  if (boundary) {
    const parts = body.split(`--${boundary}`).slice(1, -1);
    return [headers, ...parts.map((p) => decodeMime(p.replace(/^\n/, "")))].join("\n");
  }
  const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
  const decoded =
    encoding === "base64"
      ? Buffer.from(body, "base64").toString("utf8")
      : encoding === "quoted-printable"
        ? decodeQuotedPrintable(body)
        : body;
  return `${headers}\n\n${decoded}`;
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}
