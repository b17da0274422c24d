import type { SESv2Client, SendEmailCommandInput } from "@aws-sdk/client-sesv2";
import { isTransientSdkFailure } from "../../aws/aws-call.js";
import { NotificationError } from "../../errors.js";
import { oneLine } from "../../util/one-line.js";
import type { DeliveryResult, LeakMessage, NotificationChannel } from "../leak-message.js";

// Sends the owner's message through Amazon SES (v2 API) with the injected client, which keeps the SDK's
// own retries. Errors name the channel and SES's error, never the message.

export interface SesEmailChannelOptions {
  name: string;
  /** The client, or a provider that makes it on the first send (the SDK then loads only if mail is sent). */
  ses: SESv2Client | (() => Promise<SESv2Client>);
  /** A verified SES identity, e.g. `Tourniquet <security@example.com>`. */
  from: string;
  configurationSetName?: string | undefined;
  replyTo?: string | undefined;
}

/** SES errors that will not change on retry: content, identity or account problems. */
const PERMANENT_ERRORS = new Set([
  "MessageRejected",
  "MailFromDomainNotVerifiedException",
  "NotFoundException",
  "BadRequestException",
  "AccountSuspendedException",
  "SendingPausedException",
]);

export class SesEmailChannel implements NotificationChannel {
  readonly name: string;
  readonly kind = "email";
  private readonly label: string;

  constructor(private readonly options: SesEmailChannelOptions) {
    this.name = options.name;
    this.label = `ses channel "${options.name}"`;
  }

  async deliver(message: LeakMessage, options?: { signal?: AbortSignal }): Promise<DeliveryResult> {
    const to = message.recipient.email;
    if (!to) {
      throw new NotificationError(
        `${this.label}: recipient (${message.recipient.role}) has no email address`,
        {
          transient: false,
        },
      );
    }
    const utf8 = (data: string) => ({ Data: data, Charset: "UTF-8" });
    const input: SendEmailCommandInput = {
      FromEmailAddress: this.options.from,
      Destination: { ToAddresses: [to] },
      ...(this.options.replyTo ? { ReplyToAddresses: [this.options.replyTo] } : {}),
      Content: {
        Simple: {
          Subject: utf8(message.subject),
          Body: { Text: utf8(message.text), Html: utf8(message.html) },
        },
      },
      EmailTags: [
        { Name: "tourniquet_leak_id", Value: tagValue(message.facts.leakId) },
        { Name: "tourniquet_message_id", Value: tagValue(message.id) },
      ],
      ...(this.options.configurationSetName
        ? { ConfigurationSetName: this.options.configurationSetName }
        : {}),
    };
    try {
      const ses = this.options.ses;
      // Imported here, not at the top: loading the SDK client at cold start would cost every
      // invocation of the worker ~100 ms before its first revocation, email or not.
      const [client, { SendEmailCommand }] = await Promise.all([
        typeof ses === "function" ? ses() : ses,
        import("@aws-sdk/client-sesv2"),
      ]);
      const output = await client.send(new SendEmailCommand(input), { abortSignal: options?.signal });
      return { duplicate: false, providerMessageId: output.MessageId };
    } catch (error) {
      throw sesError(this.label, error, options?.signal);
    }
  }
}

/** SES accepts only ASCII letters, digits, `_` and `-` (at most 256) in tag values. */
export function tagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 256) || "_";
}

function sesError(label: string, error: unknown, signal: AbortSignal | undefined): NotificationError {
  if (signal?.aborted)
    return new NotificationError(`${label}: aborted by caller`, { transient: true, cause: error });
  const e = (error ?? {}) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = typeof e.name === "string" ? e.name : "Error";
  const status = e.$metadata?.httpStatusCode;
  // The SDK's own classification (throttling, 5xx, timeouts, no answer), except for what SES says
  // will not change on retry.
  const transient = !PERMANENT_ERRORS.has(name) && isTransientSdkFailure(error);
  const httpStatus = status === undefined ? "" : ` (HTTP ${status})`;
  // SES's messages name identities and limits, not the email content; kept short and on one line.
  const detail = typeof e.message === "string" && e.message ? `: ${oneLine(e.message)}` : "";
  return new NotificationError(`${label}: ${name}${httpStatus}${detail}`, { transient, cause: error });
}
