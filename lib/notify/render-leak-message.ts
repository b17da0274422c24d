import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";
import { unrevocableType } from "../issuers/unrevocable-types.js";
import { durationText } from "../util/duration-text.js";
import type { LeakFacts, LeakMessage, Recipient } from "./leak-message.js";
import { compileTemplate, type RenderTemplate } from "./template.js";

// Turns a leak's facts into the message one recipient gets on one channel, using the editable
// templates (templates/leak-notification.txt and .html, or TOURNIQUET_TEMPLATES_DIR).

/** The two templates, compiled once when they are loaded. */
export interface Templates {
  text: RenderTemplate;
  html: RenderTemplate;
}

const DEFAULT_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));

/** Reads and compiles the templates; a file that is missing or does not compile is a ConfigError. */
export function loadTemplates(dir = process.env.TOURNIQUET_TEMPLATES_DIR ?? DEFAULT_DIR): Templates {
  const load = (name: string, html: boolean) => {
    const path = `${dir.replace(/\/$/, "")}/${name}`;
    let source: string;
    try {
      source = readFileSync(path, "utf8");
    } catch (error) {
      throw new ConfigError(`Template ${path} cannot be read`, { cause: error });
    }
    return compileTemplate(source, { html, name: path });
  };
  return { text: load("leak-notification.txt", false), html: load("leak-notification.html", true) };
}

/**
 * Deterministic per leak, channel, recipient and what the message tells (status, key, replacement), so
 * every retry carries the same id and a receiver or the outbox drops the repeat, while news tells the
 * owner again: a failure then a revocation after an admin's retry, a replacement made by a retried
 * rotation. Sightings and the timeline's growth are not news: they do not change the id.
 */
export function messageId(facts: LeakFacts, channel: string, recipient: Recipient): string {
  const news = [
    (recipient.email ?? recipient.role).toLowerCase(),
    facts.status,
    facts.keyId ?? "",
    facts.replacement?.keyId ?? "",
  ];
  return `${facts.leakId}.${channel}.${createHash("sha256").update(news.join("|")).digest("hex").slice(0, 16)}`;
}

function headline(facts: LeakFacts): { subject: string; intro: string; statusLine: string } {
  const key = `${facts.tokenType} key ${facts.preview}`;
  const took =
    facts.timeToRevokeMs === undefined ? "" : ` ${durationText(facts.timeToRevokeMs)} after it was reported`;
  switch (facts.status) {
    case "revoked":
      return {
        subject: `[Action needed] Your ${key} leaked and was revoked`,
        intro: `Your ${key} was found in public. We revoked it${took} and confirmed with its issuer that it no longer works.`,
        statusLine: `revoked at ${facts.revokedAt}`,
      };
    case "notified": {
      const unrevocable = unrevocableType(facts.tokenType);
      if (unrevocable) {
        return {
          subject: `[Action needed] Your ${key} leaked: delete it now`,
          intro: `Your ${key} was found in public. It still works, and ${unrevocable.service} offers no way to revoke it for you: delete it by hand, as the steps below say.`,
          statusLine: `live: ${unrevocable.service} cannot revoke it by API`,
        };
      }
      return {
        subject: `[Action needed] Your ${key} leaked: rotate it now`,
        intro: `Your ${key} was found in public. It still works: by your provider's policy it was not revoked automatically.`,
        statusLine: "live: not revoked by policy",
      };
    }
    case "failed":
      return {
        subject: `[Urgent] Your ${key} leaked and could not be revoked automatically`,
        intro: `Your ${key} was found in public and automatic revocation failed. Treat the key as compromised.`,
        statusLine: "remediation failed",
      };
    default:
      return {
        subject: `[Security notice] Your ${key} was found in public`,
        intro: `Your ${key} was found in public.`,
        statusLine: facts.status,
      };
  }
}

export function renderLeakMessage(
  facts: LeakFacts,
  recipient: Recipient,
  channel: string,
  templates: Templates,
): LeakMessage {
  const { subject, intro, statusLine } = headline(facts);
  const values = {
    recipient_name:
      recipient.name ??
      (recipient.role === "security_contact" ? "security team" : (recipient.email ?? "there")),
    subject,
    intro:
      recipient.role === "security_contact"
        ? `${intro} (You are receiving this as the security contact.)`
        : intro,
    token_type: facts.tokenType,
    preview: facts.preview,
    key_id: facts.keyId,
    status_line: statusLine,
    sightings: facts.sightings.map((s) => ({
      url: s.url || "(no url given)",
      // Only a web address becomes a link: a reported URL is the reporter's text (javascript:, data:).
      href: linkable(s.url),
      source: s.source,
      first_seen: s.firstSeen,
    })),
    actions: facts.actions.map((a) => ({ at: a.at, step: a.step, detail: a.detail })),
    replacement: facts.replacement && { key_id: facts.replacement.keyId, where: facts.replacement.where },
    details: facts.details.map((d) => ({ label: d.label, value: d.value })),
    next_steps: facts.nextSteps,
    admin_url: facts.adminUrl,
    leak_id: facts.leakId,
  };
  return {
    id: messageId(facts, channel, recipient),
    recipient,
    subject,
    text: templates.text(values),
    html: templates.html(values),
    facts,
  };
}

/** `url` when it is an http(s) address a mail client may open; undefined for anything else. */
export function linkable(url: string): string | undefined {
  try {
    const { protocol } = new URL(url);
    return protocol === "https:" || protocol === "http:" ? url : undefined;
  } catch {
    return undefined;
  }
}
