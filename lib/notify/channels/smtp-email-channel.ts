import type { NodemailerError, SMTPTransportOptions, Transporter } from "nodemailer";
import { ConfigError, NotificationError } from "../../errors.js";
import { isLoopbackHost } from "../../http/outbound.js";
import { oneLine } from "../../util/one-line.js";
import type { DeliveryResult, LeakMessage, NotificationChannel } from "../leak-message.js";

// Sends the owner's message over SMTP with nodemailer, for operators who host their own mail relay.
// The Message-ID is derived from the message id, so a resend after a timeout (when the server may
// already have taken the message) can be recognised downstream.
//
// The message names a leaked key and the password authenticates us, so the connection is encrypted:
// implicit TLS (`secure`) or STARTTLS, which nodemailer must then get (`requireTLS`) instead of falling
// back to plain text when a relay, or someone in between, does not offer it. The relay's certificate
// is checked. Only a relay on this host may be spoken to in plain text, and only when `insecure` says so.

export interface SmtpEmailChannelOptions {
  name: string;
  /** A ready transporter (its TLS settings are the caller's), or SMTP options to create one from. */
  transport: Transporter | SMTPTransportOptions;
  /** Plain SMTP, no TLS: allowed for a loopback host only. */
  insecure?: boolean | undefined;
  from: string;
  /** Per delivery: connecting, the SMTP dialogue and the answer. Default 30000. */
  timeoutMs?: number | undefined;
}

/** Nodemailer codes for failures of the connection rather than refusals of the message. */
const TRANSIENT_CODES = new Set(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "ETLS", "EPROXY", "EABORT"]);
const DEFAULT_TIMEOUT_MS = 30_000;

export class SmtpEmailChannel implements NotificationChannel {
  readonly name: string;
  readonly kind = "email";
  private readonly label: string;
  private transporter: Promise<Transporter> | undefined;
  private readonly transport: Transporter | SMTPTransportOptions;
  private readonly insecure: boolean;
  private readonly from: string;
  private readonly timeoutMs: number;

  constructor(options: SmtpEmailChannelOptions) {
    this.name = options.name;
    this.label = `smtp channel "${options.name}"`;
    this.from = options.from;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.transport = options.transport;
    this.insecure = options.insecure ?? false;
    const host = isTransporter(options.transport) ? undefined : (options.transport.host ?? "localhost");
    if (this.insecure && host !== undefined && !isLoopbackHost(host)) {
      throw new ConfigError(
        `${this.label}: insecure (no TLS) is allowed for a loopback relay only, not ${host}`,
      );
    }
  }

  /** Made on the first send: nodemailer is loaded only by a worker that sends mail over SMTP. */
  private getTransporter(): Promise<Transporter> {
    const t = this.transport;
    // Nodemailer's own defaults wait minutes for a silent server. The per-delivery signal is the limit;
    // these only back it up, a little later, so a timeout always reads the same.
    const backstop = this.timeoutMs + 1000;
    this.transporter ??= isTransporter(t)
      ? Promise.resolve(t)
      : import("nodemailer").then(({ default: nodemailer }) =>
          nodemailer.createTransport({
            connectionTimeout: backstop,
            greetingTimeout: backstop,
            socketTimeout: backstop,
            ...t,
            // Plain text only when allowed (loopback); otherwise STARTTLS or nothing, when not `secure`.
            ...(this.insecure
              ? { ignoreTLS: true, requireTLS: false }
              : { ignoreTLS: false, requireTLS: true }),
          }),
        );
    return this.transporter;
  }

  async deliver(message: LeakMessage, options?: { signal?: AbortSignal }): Promise<DeliveryResult> {
    const address = message.recipient.email;
    if (!address) {
      throw new NotificationError(
        `${this.label}: recipient (${message.recipient.role}) has no email address`,
        {
          transient: false,
        },
      );
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options?.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      const transporter = await this.getTransporter();
      const info = await transporter.sendMail({
        from: this.from,
        to: message.recipient.name ? { name: message.recipient.name, address } : address,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: `<${message.id}@tourniquet>`,
        headers: { "X-Tourniquet-Leak-Id": message.facts.leakId },
        signal,
      });
      return { duplicate: false, providerMessageId: info.messageId };
    } catch (error) {
      const aborted = timeout.aborted
        ? `no answer within ${this.timeoutMs} ms`
        : options?.signal?.aborted
          ? "aborted by caller"
          : undefined;
      if (aborted) {
        throw new NotificationError(`${this.label}: ${aborted}`, { transient: true, cause: error });
      }
      throw smtpError(this.label, error as NodemailerError);
    }
  }
}

function isTransporter(value: Transporter | SMTPTransportOptions): value is Transporter {
  return typeof (value as Transporter).sendMail === "function";
}

function smtpError(label: string, error: NodemailerError): NotificationError {
  const code = error?.responseCode;
  if (typeof code === "number") {
    // RFC 5321: 4yz replies are transient negative completions, 5yz permanent ones.
    const command = error.command ? ` at ${error.command.split(" ")[0]}` : "";
    const reply = error.response ? `: ${oneLine(error.response)}` : "";
    // A relay that refuses STARTTLS: say why we asked.
    const tls =
      error.code === "ETLS"
        ? ["ETLS: ", '; TLS is required ("insecure": true only for a loopback relay)']
        : ["", ""];
    return new NotificationError(`${label}: ${tls[0]}SMTP ${code}${command}${reply}${tls[1]}`, {
      transient: code < 500,
      cause: error,
    });
  }
  const errorCode = typeof error?.code === "string" ? error.code : "unknown";
  return new NotificationError(
    `${label}: ${errorCode}${error?.originalCode ? ` (${error.originalCode})` : ""}`,
    {
      transient: TRANSIENT_CODES.has(errorCode),
      cause: error,
    },
  );
}
