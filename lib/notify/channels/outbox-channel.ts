import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NotificationError } from "../../errors.js";
import type { DeliveryResult, LeakMessage, NotificationChannel } from "../leak-message.js";
import { slackPayload } from "./slack-webhook-channel.js";
import { webhookPayload } from "./webhook-channel.js";

export type OutboxFormat = "email" | "slack" | "webhook";

/**
 * The local stack's channels: one JSON file per message in the outbox folder, rendered as the real
 * channel would send it (an email, a Slack Block Kit payload, a webhook body). The file is created
 * exclusively, so a redelivered or concurrent send of the same message writes nothing the second time.
 */
export class OutboxChannel implements NotificationChannel {
  readonly kind: OutboxFormat;

  constructor(
    readonly name: string,
    private readonly options: { dir: string; format: OutboxFormat; now?: () => number },
  ) {
    this.kind = options.format;
  }

  async deliver(message: LeakMessage): Promise<DeliveryResult> {
    await mkdir(this.options.dir, { recursive: true });
    const file = join(this.options.dir, `${message.id}.json`);
    const record = {
      id: message.id,
      leak_id: message.facts.leakId,
      channel: this.name,
      format: this.options.format,
      created_at: new Date((this.options.now ?? Date.now)()).toISOString(),
      ...this.render(message),
    };
    try {
      await writeFile(file, `${JSON.stringify(record, null, 2)}\n`, { flag: "wx", mode: 0o600 });
      return { duplicate: false, providerMessageId: `${message.id}.json` };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return { duplicate: true };
      throw new NotificationError(`outbox channel "${this.name}": cannot write message ${message.id}`, {
        transient: true,
        cause: error,
      });
    }
  }

  private render(message: LeakMessage): Record<string, unknown> {
    switch (this.options.format) {
      case "slack":
        return { slack: slackPayload(message) };
      case "webhook":
        return { webhook: webhookPayload(message) };
      default:
        return {
          to: message.recipient.email,
          subject: message.subject,
          text: message.text,
          html: message.html,
        };
    }
  }
}
