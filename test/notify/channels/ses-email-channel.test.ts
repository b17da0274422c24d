import {
  AccountSuspendedException,
  BadRequestException,
  LimitExceededException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  NotFoundException,
  SESv2Client,
  SESv2ServiceException,
  SendEmailCommand,
  SendingPausedException,
  TooManyRequestsException,
} from "@aws-sdk/client-sesv2";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { NotificationError } from "../../../lib/errors.js";
import { SesEmailChannel, tagValue } from "../../../lib/notify/channels/ses-email-channel.js";
import { makeLeakMessage } from "../../helpers/leak-message.js";
import { rejection } from "../../helpers/rejection.js";

// SesEmailChannel with the SES v2 client mocked at its send(): asserts the exact SendEmail input and
// how each SES error is classified.

const ses = new SESv2Client({ region: "eu-west-1" });
const sesMock = mockClient(ses);
afterEach(() => {
  sesMock.reset();
});

const channel = (extra: { configurationSetName?: string; replyTo?: string } = {}) =>
  new SesEmailChannel({ name: "email", ses, from: "Tourniquet <security@example.test>", ...extra });

const failure = (promise: Promise<unknown>) => rejection(promise, NotificationError);

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

describe("SesEmailChannel", () => {
  it("sends the subject, text and HTML to the recipient with leak and message tags", async () => {
    sesMock.on(SendEmailCommand).resolves({ MessageId: "0102018d-ses-message-id" });
    const message = makeLeakMessage();

    const result = await channel().deliver(message);

    expect(result).toEqual({ duplicate: false, providerMessageId: "0102018d-ses-message-id" });
    const calls = sesMock.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      FromEmailAddress: "Tourniquet <security@example.test>",
      Destination: { ToAddresses: ["owner@example.test"] },
      Content: {
        Simple: {
          Subject: { Data: message.subject, Charset: "UTF-8" },
          Body: {
            Text: { Data: message.text, Charset: "UTF-8" },
            Html: { Data: message.html, Charset: "UTF-8" },
          },
        },
      },
      EmailTags: [
        { Name: "tourniquet_leak_id", Value: "lk_6897aab7941b3bbd1d62e960" },
        { Name: "tourniquet_message_id", Value: "lk_6897aab7941b3bbd1d62e960_email_0123456789abcdef" },
      ],
    });
    expect(message.text).toContain("https://github.com/example/demo/blob/main/.env");
  });

  it("adds the configuration set and reply-to when configured", async () => {
    sesMock.on(SendEmailCommand).resolves({ MessageId: "m" });
    await channel({ configurationSetName: "tourniquet", replyTo: "security@example.test" }).deliver(
      makeLeakMessage(),
    );
    const input = sesMock.commandCalls(SendEmailCommand)[0]?.args[0].input;
    expect(input?.ConfigurationSetName).toBe("tourniquet");
    expect(input?.ReplyToAddresses).toEqual(["security@example.test"]);
  });

  it("passes the caller's abort signal to the SDK", async () => {
    sesMock.on(SendEmailCommand).resolves({ MessageId: "m" });
    const controller = new AbortController();
    await channel().deliver(makeLeakMessage(), { signal: controller.signal });
    expect((sesMock.send.firstCall.args as unknown[])[1]).toEqual({ abortSignal: controller.signal });
  });

  it("keeps tag values within SES's allowed characters", () => {
    expect(tagValue("lk_1.email.ab:cd/é")).toBe("lk_1_email_ab_cd__");
    expect(tagValue("")).toBe("_");
    expect(tagValue("x".repeat(300))).toHaveLength(256);
  });

  it("fails permanently, without calling SES, when the recipient has no email address", async () => {
    const error = await failure(
      channel().deliver(makeLeakMessage({ recipient: { role: "security_contact" } })),
    );
    expect(error.message).toBe('ses channel "email": recipient (security_contact) has no email address');
    expect(error.transient).toBe(false);
    expect(sesMock.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  describe("maps SES errors", () => {
    const client = { $fault: "client" as const };
    it.each([
      [
        "TooManyRequestsException",
        new TooManyRequestsException({ message: "Too many requests", ...meta(429) }),
      ],
      ["LimitExceededException", new LimitExceededException({ message: "Limit exceeded", ...meta(400) })],
      [
        "ThrottlingException",
        new SESv2ServiceException({
          name: "ThrottlingException",
          $fault: "client",
          $retryable: { throttling: true },
          ...meta(400),
        }),
      ],
      [
        "InternalFailure",
        new SESv2ServiceException({ name: "InternalFailure", $fault: "server", ...meta(500) }),
      ],
      ["ServiceUnavailable", new SESv2ServiceException({ name: "Unknown", $fault: "server", ...meta(503) })],
      ["network", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })],
      [
        "TimeoutError",
        Object.assign(new Error("Connection timed out after 1000 ms"), { name: "TimeoutError" }),
      ],
    ])("%s is transient", async (_name, error) => {
      sesMock.on(SendEmailCommand).rejects(error);
      const result = await failure(channel().deliver(makeLeakMessage()));
      expect(result.transient).toBe(true);
      expect(result.message).toMatch(/^ses channel "email": /);
      expect(result.cause).toBe(error);
    });

    it.each([
      ["MessageRejected", new MessageRejected({ message: "Email address is not verified.", ...meta(400) })],
      [
        "MailFromDomainNotVerifiedException",
        new MailFromDomainNotVerifiedException({ message: "not verified", ...meta(400) }),
      ],
      [
        "NotFoundException",
        new NotFoundException({ message: "Configuration set does not exist", ...meta(404) }),
      ],
      ["BadRequestException", new BadRequestException({ message: "bad", ...meta(400) })],
      ["AccountSuspendedException", new AccountSuspendedException({ message: "suspended", ...meta(400) })],
      ["SendingPausedException", new SendingPausedException({ message: "paused", ...meta(400) })],
      [
        "an unknown client error",
        new SESv2ServiceException({ name: "SomethingNew", ...client, ...meta(400) }),
      ],
    ])("%s is permanent", async (_name, error) => {
      sesMock.on(SendEmailCommand).rejects(error);
      const result = await failure(channel().deliver(makeLeakMessage()));
      expect(result.transient).toBe(false);
    });

    it("names the channel and SES's error, never the message content", async () => {
      sesMock
        .on(SendEmailCommand)
        .rejects(new MessageRejected({ message: "Email address is not verified.", ...meta(400) }));
      const message = makeLeakMessage();
      const error = await failure(channel().deliver(message));
      expect(error.message).toBe(
        'ses channel "email": MessageRejected (HTTP 400): Email address is not verified.',
      );
      expect(error.message).not.toContain(message.subject);
      expect(error.message).not.toContain(message.facts.preview);
    });

    it("reports a caller's abort as transient", async () => {
      const controller = new AbortController();
      sesMock.on(SendEmailCommand).callsFake(() => {
        controller.abort();
        throw Object.assign(new Error("Request aborted"), { name: "AbortError" });
      });
      const error = await failure(channel().deliver(makeLeakMessage(), { signal: controller.signal }));
      expect(error.message).toBe('ses channel "email": aborted by caller');
      expect(error.transient).toBe(true);
    });
  });
});
