import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import nodemailer from "nodemailer";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../lib/config.js";
import { ConfigError, NotificationError } from "../../../lib/errors.js";
import { createChannels } from "../../../lib/notify/channel-registry.js";
import { SmtpEmailChannel } from "../../../lib/notify/channels/smtp-email-channel.js";
import { decodeMime, FakeSmtpServer } from "../../helpers/fake-smtp-server.js";
import { makeLeakMessage } from "../../helpers/leak-message.js";
import { rejection } from "../../helpers/rejection.js";

// SmtpEmailChannel talking real SMTP to smtp-server on loopback (no auth): a plain relay, and one that
// offers STARTTLS with a certificate for localhost / 127.0.0.1 (test/fixtures/tls).

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/tls/${name}`, import.meta.url), "utf8");
const TLS = { key: fixture("localhost-key.pem"), cert: fixture("localhost-cert.pem") };

let smtp: FakeSmtpServer;
let tlsSmtp: FakeSmtpServer;

beforeAll(async () => {
  [smtp, tlsSmtp] = await Promise.all([FakeSmtpServer.start(), FakeSmtpServer.start({ tls: TLS })]);
});
afterAll(() => Promise.all([smtp.close(), tlsSmtp.close()]));
afterEach(() => {
  for (const relay of [smtp, tlsSmtp]) {
    relay.messages.length = 0;
    relay.refusal = undefined;
  }
});

/** A channel to the plain relay, which may only go without TLS because it is on loopback. */
const channel = (port = smtp.port, timeoutMs?: number) =>
  new SmtpEmailChannel({
    name: "mail",
    from: "Tourniquet <security@example.test>",
    transport: { host: "127.0.0.1", port, secure: false },
    insecure: true,
    timeoutMs,
  });

const failure = (promise: Promise<unknown>) => rejection(promise, NotificationError);

describe("SmtpEmailChannel", () => {
  it("sends text and HTML with a Message-ID derived from the message id and the leak id header", async () => {
    const message = makeLeakMessage();
    const result = await channel().deliver(message);

    const messageId = `<${message.id}@tourniquet>`;
    expect(result).toEqual({ duplicate: false, providerMessageId: messageId });
    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0];
    expect(mail?.from).toBe("security@example.test");
    expect(mail?.to).toEqual(["owner@example.test"]);
    const raw = mail?.raw ?? "";
    expect(raw).toMatch(new RegExp(`^Message-ID: ${messageId}\\r$`, "im"));
    // Header names are case-insensitive; nodemailer writes this one as X-Tourniquet-Leak-ID.
    expect(raw).toMatch(/^X-Tourniquet-Leak-Id: lk_6897aab7941b3bbd1d62e960\r$/im);
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    const decoded = decodeMime(raw);
    expect(decoded).toContain(`Subject: ${message.subject}`);
    expect(decoded).toContain("To: Demo Owner <owner@example.test>");
    expect(decoded).toContain(message.text.trim());
    expect(decoded).toContain(message.html);
    expect(decoded).toContain("tqs_…9f2a");
  });

  it("uses a ready nodemailer transporter as given", async () => {
    const transport = nodemailer.createTransport({ host: "127.0.0.1", port: smtp.port, secure: false });
    const result = await new SmtpEmailChannel({
      name: "mail",
      from: "security@example.test",
      transport,
    }).deliver(makeLeakMessage());
    expect(result.providerMessageId).toMatch(/@tourniquet>$/);
    expect(smtp.messages).toHaveLength(1);
  });

  describe("TLS", () => {
    const secureChannel = (port: number, ca?: string) =>
      new SmtpEmailChannel({
        name: "mail",
        from: "security@example.test",
        transport: { host: "127.0.0.1", port, ...(ca ? { tls: { ca } } : {}) },
      });

    it("is required by default: a relay that does not offer STARTTLS gets nothing", async () => {
      const error = await failure(secureChannel(smtp.port).deliver(makeLeakMessage()));
      expect(error.message).toMatch(/^smtp channel "mail": ETLS/);
      expect(error.message).toContain('TLS is required ("insecure": true only for a loopback relay)');
      expect(error.transient).toBe(false);
      expect(smtp.messages).toHaveLength(0);
    });

    it("is negotiated with STARTTLS when the relay offers it, and the message goes encrypted", async () => {
      const result = await secureChannel(tlsSmtp.port, TLS.cert).deliver(makeLeakMessage());
      expect(result.providerMessageId).toMatch(/@tourniquet>$/);
      expect(tlsSmtp.messages.map((m) => m.secure)).toEqual([true]);
    });

    it("checks the relay's certificate: an untrusted one gets nothing", async () => {
      const error = await failure(secureChannel(tlsSmtp.port).deliver(makeLeakMessage()));
      expect(error.message).toMatch(/^smtp channel "mail": E/);
      expect(tlsSmtp.messages).toHaveLength(0);
    });

    it("may be skipped for a loopback relay only", () => {
      expect(
        () =>
          new SmtpEmailChannel({
            name: "mail",
            from: "security@example.test",
            transport: { host: "smtp.example.com", port: 25 },
            insecure: true,
          }),
      ).toThrow(ConfigError);
    });

    it.each([
      [{}, 0],
      [{ insecure: true }, 1],
    ])("from the config %j: a plain loopback relay gets %i message(s)", async (extra, delivered) => {
      const config = parseConfig({
        defaults: { channels: ["mail"] },
        notifications: {
          channels: {
            mail: {
              kind: "smtp",
              host: "127.0.0.1",
              port: smtp.port,
              from: "security@example.test",
              ...extra,
            },
          },
        },
      });
      const mail = createChannels(config, { outboxDir: "/nonexistent" }).get("mail");
      const sent = await mail?.deliver(makeLeakMessage()).then(
        () => true,
        (error: unknown) => {
          expect(error).toBeInstanceOf(NotificationError);
          return false;
        },
      );
      expect(sent).toBe(delivered === 1);
      expect(smtp.messages).toHaveLength(delivered);
      expect(smtp.messages.every((m) => !m.secure)).toBe(true);
    });
  });

  it("fails permanently, without connecting, when the recipient has no email address", async () => {
    const error = await failure(channel().deliver(makeLeakMessage({ recipient: { role: "owner" } })));
    expect(error.message).toBe('smtp channel "mail": recipient (owner) has no email address');
    expect(error.transient).toBe(false);
  });

  describe("maps SMTP replies", () => {
    it.each([
      ["rcpt", 450, "Mailbox busy, try later", true],
      ["rcpt", 452, "Too many recipients", true],
      ["data", 451, "Local error in processing", true],
      ["rcpt", 550, "No such user here", false],
      ["rcpt", 553, "Mailbox name not allowed", false],
      ["data", 554, "Transaction failed: content rejected", false],
    ] as const)("%s refused with %i (%s): transient %s", async (at, code, text, transient) => {
      smtp.refusal = { at, code, message: text };
      const error = await failure(channel().deliver(makeLeakMessage()));
      expect(error.transient).toBe(transient);
      expect(error.message).toMatch(
        new RegExp(`^smtp channel "mail": SMTP ${code} at ${at === "rcpt" ? "RCPT" : "DATA"}`),
      );
      expect(error.message).toContain(text);
      expect(smtp.messages).toHaveLength(0);
    });

    it("never puts the message content in an error", async () => {
      smtp.refusal = { at: "data", code: 554, message: "rejected" };
      const message = makeLeakMessage();
      const error = await failure(channel().deliver(message));
      expect(error.message).not.toContain(message.subject);
      expect(error.message).not.toContain(message.facts.preview);
    });
  });

  it("treats a refused connection as transient", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(channel(port).deliver(makeLeakMessage()));
    expect(error.transient).toBe(true);
    expect(error.message).toMatch(/^smtp channel "mail": E[A-Z]+/);
  });

  describe("against a server that never greets", () => {
    let silent: Server;
    let port: number;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      silent = createServer((socket) => void sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      port = (silent.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it("gives up after timeoutMs with a transient error", async () => {
      const started = Date.now();
      const error = await failure(channel(port, 300).deliver(makeLeakMessage()));
      expect(error.transient).toBe(true);
      expect(error.message).toBe('smtp channel "mail": no answer within 300 ms');
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it("stops when the caller aborts", async () => {
      const error = await failure(
        channel(port).deliver(makeLeakMessage(), { signal: AbortSignal.timeout(150) }),
      );
      expect(error.message).toBe('smtp channel "mail": aborted by caller');
      expect(error.transient).toBe(true);
    });
  });
});
