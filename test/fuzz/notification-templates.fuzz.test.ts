import fc from "fast-check";
import Handlebars from "handlebars/dist/handlebars.js";
import { describe, expect, it } from "vitest";
import { SLACK_LIMITS, slackPayload } from "../../lib/notify/channels/slack-webhook-channel.js";
import { webhookPayload } from "../../lib/notify/channels/webhook-channel.js";
import type { LeakFacts, Recipient } from "../../lib/notify/leak-message.js";
import { loadTemplates, renderLeakMessage } from "../../lib/notify/render-leak-message.js";
import { makeLeakFacts } from "../helpers/leak-message.js";

// Arbitrary strings (template syntax, HTML, control characters, huge or empty) in every field a
// notification prints: rendering always ends, prints each value as data (never as template), escapes it
// in HTML, and the Slack and webhook payloads stay within their limits. A hang fails by the test timeout.

const templates = loadTemplates();
/** Strings rich in what could be read as template or markup. */
const text = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(..."{}#/!>*&<>\"'`=^~ \\ifeachwthkeyd_"), maxLength: 120 }),
  fc.constantFrom(
    "{{#if key_id}}{{key_id}}{{/if}}",
    "{{admin_url}}",
    "{{{leak_id}}}",
    "{{> partial}}",
    "{{#each sightings}}{{this}}{{/each}}",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
  ),
  fc.string({ unit: "binary", maxLength: 100 }),
);

const facts: fc.Arbitrary<LeakFacts> = fc
  .record({
    tokenType: text,
    preview: text,
    keyId: fc.option(text, { nil: undefined }),
    sightings: fc.array(fc.record({ url: text, source: text, firstSeen: text }), { maxLength: 4 }),
    actions: fc.array(fc.record({ at: text, step: text, outcome: text, detail: text }), { maxLength: 4 }),
    replacement: fc.option(fc.record({ keyId: text, where: text }), { nil: undefined }),
    nextSteps: fc.array(text, { maxLength: 3 }),
    details: fc.array(fc.record({ label: text, value: text }), { maxLength: 3 }),
    adminUrl: fc.option(text, { nil: undefined }),
    status: fc.constantFrom("revoked", "failed", "notified", "inactive"),
  })
  .map((fields) => makeLeakFacts(fields as Partial<LeakFacts>));
const recipient: fc.Arbitrary<Recipient> = fc.record({
  role: fc.constantFrom("owner", "security_contact"),
  email: fc.option(text, { nil: undefined }),
  name: fc.option(text, { nil: undefined }),
});

describe("fuzz: notification rendering", () => {
  it("prints every value as data in text, escaped in HTML, and always ends", () => {
    fc.assert(
      fc.property(facts, recipient, (f, to) => {
        const message = renderLeakMessage(f, to, "email", templates);
        const printed = [
          f.tokenType,
          f.preview,
          ...f.actions.map((a) => a.detail),
          ...f.nextSteps,
          ...f.details.flatMap((d) => [d.label, d.value]),
        ];
        if (f.keyId) printed.push(f.keyId);
        if (f.replacement) printed.push(f.replacement.keyId, f.replacement.where);
        for (const value of printed) {
          expect(message.text).toContain(value);
          expect(message.html).toContain(Handlebars.escapeExpression(value));
        }
        expect(message.html).not.toContain("<script>");
      }),
      { numRuns: 300 },
    );
  });

  it("keeps Slack and webhook payloads within their limits, whatever the values", () => {
    fc.assert(
      fc.property(facts, recipient, (f, to) => {
        const message = renderLeakMessage(f, to, "team", templates);
        const slack = slackPayload(message);
        expect(slack.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
        for (const block of slack.blocks) {
          if ("text" in block && block.text) {
            expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
          }
        }
        expect(JSON.parse(JSON.stringify(webhookPayload(message)))).toMatchObject({
          type: "leak.notification",
        });
      }),
      { numRuns: 300 },
    );
  });
});
