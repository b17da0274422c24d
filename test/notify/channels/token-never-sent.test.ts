import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SesEmailChannel } from "../../../lib/notify/channels/ses-email-channel.js";
import { SlackWebhookChannel } from "../../../lib/notify/channels/slack-webhook-channel.js";
import { SmtpEmailChannel } from "../../../lib/notify/channels/smtp-email-channel.js";
import { WebhookChannel } from "../../../lib/notify/channels/webhook-channel.js";
import { FakeSlackWebhook } from "../../helpers/fake-slack-webhook.js";
import { FakeSmtpServer } from "../../helpers/fake-smtp-server.js";
import { makeLeakMessage, SAMPLE_TOKEN } from "../../helpers/leak-message.js";
import { WebhookReceiver } from "../../helpers/webhook-receiver.js";

// The raw token exists only in this test. A message rendered from the leak's facts (preview, key id,
// sightings) goes through every channel, including failed deliveries, and no receiver's recorded bytes,
// no error and no SES input may contain the token, while each does carry the preview.

const TOKEN = SAMPLE_TOKEN;
const PREVIEW = `${TOKEN.slice(0, 4)}…${TOKEN.slice(-4)}`;

let slack: FakeSlackWebhook;
let webhook: WebhookReceiver;
let smtp: FakeSmtpServer;
const ses = new SESv2Client({ region: "eu-west-1" });
const sesMock = mockClient(ses);

beforeAll(async () => {
  [slack, webhook, smtp] = await Promise.all([
    FakeSlackWebhook.start(),
    WebhookReceiver.start("webhook-secret"),
    FakeSmtpServer.start(),
  ]);
});
afterAll(async () => {
  await Promise.all([slack.close(), webhook.close(), smtp.close()]);
  sesMock.restore();
});

describe("no channel ever sends the token", () => {
  it("across successful and refused deliveries on every channel", async () => {
    const message = makeLeakMessage({
      facts: {
        preview: PREVIEW,
        sightings: [
          {
            url: "https://github.com/example/demo/blob/main/.env",
            source: "github",
            firstSeen: "2026-01-01T00:00:00Z",
          },
        ],
      },
    });
    expect(JSON.stringify(message)).not.toContain(TOKEN);

    const channels = [
      new SlackWebhookChannel({ name: "slack", webhookUrl: slack.url }),
      new WebhookChannel({ name: "hook", url: webhook.url, secret: "webhook-secret" }),
      new SmtpEmailChannel({
        name: "smtp",
        from: "security@example.test",
        transport: { host: "127.0.0.1", port: smtp.port, secure: false },
        insecure: true,
      }),
      new SesEmailChannel({ name: "ses", ses, from: "security@example.test" }),
    ];
    sesMock.on(SendEmailCommand).resolvesOnce({ MessageId: "m-1" }).rejects(new Error("socket hang up"));
    slack.answer(200, "ok").answer(500, "internal_error");
    webhook.answer(204).answer(503);
    const errors: unknown[] = [];
    for (const channel of channels) {
      await channel.deliver(message);
      if (channel.name === "smtp") smtp.refusal = { at: "data", code: 554, message: "rejected" };
      await channel.deliver(message).catch((e: unknown) => errors.push(e));
    }

    expect(errors).toHaveLength(4);
    const sesInputs = JSON.stringify(sesMock.commandCalls(SendEmailCommand).map((c) => c.args[0].input));
    const recorded = {
      slack: slack.received,
      webhook: webhook.received,
      smtp: smtp.received,
      ses: sesInputs,
    };
    for (const [receiver, bytes] of Object.entries(recorded)) {
      expect(bytes, receiver).toContain(PREVIEW);
      expect(bytes, receiver).not.toContain(TOKEN);
      // Not even the part of the token that the preview hides.
      expect(bytes, receiver).not.toContain(TOKEN.slice(4, -4));
    }
    for (const error of errors) expect(String((error as Error).message)).not.toContain(TOKEN);
  });
});
