import type { SESv2Client } from "@aws-sdk/client-sesv2";
import type { TourniquetConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import { OutboxChannel } from "./channels/outbox-channel.js";
import { SesEmailChannel } from "./channels/ses-email-channel.js";
import { SlackWebhookChannel } from "./channels/slack-webhook-channel.js";
import { SmtpEmailChannel } from "./channels/smtp-email-channel.js";
import { WebhookChannel } from "./channels/webhook-channel.js";
import type { NotificationChannel } from "./leak-message.js";

export interface ChannelEnvironment {
  /** Where outbox channels write (the local stack's data dir, or /tmp in Lambda). */
  outboxDir: string;
  /** Built on demand, on the first send: only an SES channel needs it. */
  ses?: () => Promise<SESv2Client>;
}

/** The notification channels the config names, built once at start. */
export function createChannels(
  config: TourniquetConfig,
  env: ChannelEnvironment,
): Map<string, NotificationChannel> {
  const channels = new Map<string, NotificationChannel>();
  for (const [name, settings] of Object.entries(config.notifications.channels)) {
    const secret = config.channelSecrets[name];
    // Only the worker resolves channel secrets (config-secrets.ts): anywhere else this is a wiring mistake.
    const needsSecret =
      settings.kind === "slack" ||
      settings.kind === "webhook" ||
      (settings.kind === "smtp" && settings.password);
    if (needsSecret && secret === undefined) {
      throw new ConfigError(
        `notifications.channels.${name}: this function did not resolve the channel's secret`,
      );
    }
    switch (settings.kind) {
      case "outbox":
        channels.set(name, new OutboxChannel(name, { dir: env.outboxDir, format: settings.format }));
        break;
      case "ses":
        if (!env.ses) throw new ConfigError(`notifications.channels.${name}: SES is not available here`);
        channels.set(
          name,
          new SesEmailChannel({
            name,
            ses: env.ses,
            from: settings.from,
            configurationSetName: settings.configuration_set,
          }),
        );
        break;
      case "smtp":
        channels.set(
          name,
          new SmtpEmailChannel({
            name,
            from: settings.from,
            transport: {
              host: settings.host,
              port: settings.port,
              secure: settings.secure,
              ...(settings.user ? { auth: { user: settings.user, pass: secret ?? "" } } : {}),
            },
            insecure: settings.insecure,
          }),
        );
        break;
      case "slack":
        channels.set(name, new SlackWebhookChannel({ name, webhookUrl: secret ?? "" }));
        break;
      case "webhook":
        channels.set(name, new WebhookChannel({ name, url: settings.url, secret: secret ?? "" }));
        break;
    }
  }
  return channels;
}
