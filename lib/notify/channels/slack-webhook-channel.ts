import { NotificationError } from "../../errors.js";
import { durationText } from "../../util/duration-text.js";
import type { DeliveryResult, LeakFacts, LeakMessage, NotificationChannel } from "../leak-message.js";
import { errorCodeIn, parseChannelUrl, postOnce } from "./http-delivery.js";

// Posts a leak to a Slack channel through an incoming webhook (https://api.slack.com/messaging/webhooks)
// as Block Kit. Everything user-controlled is escaped per Slack's rules and clipped to Block Kit's
// limits, since one oversized block makes Slack reject the whole message with invalid_blocks.

export interface SlackWebhookChannelOptions {
  name: string;
  /** A secret: anyone holding it can post to the channel. Never logged, never in errors. */
  webhookUrl: string;
  /** Per delivery, including reading the answer. Default 5000. */
  timeoutMs?: number | undefined;
  now?: (() => number) | undefined;
}

export const SLACK_LIMITS = { headerText: 150, sectionText: 3000, fieldText: 2000, fields: 10, blocks: 50 };
const MAX_SIGHTINGS = 10;
/** Longest user-supplied line kept, before escaping (escaping can grow it fivefold). */
const MAX_LINE = 300;

export interface SlackText {
  type: "plain_text" | "mrkdwn";
  text: string;
}
export type SlackBlock =
  | { type: "header"; text: SlackText }
  | { type: "section"; text?: SlackText; fields?: SlackText[] }
  | { type: "context"; elements: SlackText[] };

export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

export class SlackWebhookChannel implements NotificationChannel {
  readonly name: string;
  readonly kind = "slack";
  private readonly label: string;
  private readonly url: URL;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(options: SlackWebhookChannelOptions) {
    this.name = options.name;
    this.label = `slack channel "${options.name}"`;
    this.url = parseChannelUrl(this.label, options.webhookUrl);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  async deliver(message: LeakMessage, options?: { signal?: AbortSignal }): Promise<DeliveryResult> {
    const answer = await postOnce({
      label: this.label,
      url: this.url,
      body: JSON.stringify(slackPayload(message)),
      headers: { "content-type": "application/json; charset=utf-8" },
      timeoutMs: this.timeoutMs,
      now: this.now,
      signal: options?.signal,
    });
    const { status } = answer;
    // Slack answers 200 "ok"; it has no idempotency key, so a repeat is always a new post.
    if (status >= 200 && status <= 299) return { duplicate: false };
    const transient = status === 429 || status >= 500;
    const detail = status >= 300 && status <= 399 ? " (redirect not followed)" : errorCodeIn(answer.body);
    throw new NotificationError(`${this.label}: HTTP ${status}${detail}`, {
      transient,
      retryAfterSeconds: transient ? answer.retryAfterSeconds : undefined,
    });
  }
}

/** The Block Kit message for one leak, with a plain `text` fallback for notifications. */
export function slackPayload(message: LeakMessage): SlackPayload {
  const f = message.facts;
  const blocks: SlackBlock[] = [
    { type: "header", text: { type: "plain_text", text: clip(message.subject, SLACK_LIMITS.headerText) } },
    {
      type: "section",
      fields: [
        field("Type", slackEscape(f.tokenType)),
        field("Preview", code(f.preview)),
        field("Key id", f.keyId ? code(f.keyId) : "—"),
        field("Status", slackEscape(f.status)),
        field("Time to revoke", f.timeToRevokeMs === undefined ? "—" : durationText(f.timeToRevokeMs)),
      ],
    },
    ...(f.details.length > 0
      ? [
          section(
            "*About the key*",
            f.details.map(
              (d) => `${slackEscape(clip(d.label, MAX_LINE))}: ${slackEscape(clip(d.value, MAX_LINE))}`,
            ),
          ),
        ]
      : []),
    section(`*Where it was found* (${f.sightings.length})`, sightingLines(f)),
    section("*What Tourniquet did*", actionLines(f)),
    section("*What to do next*", nextStepLines(f)),
    {
      type: "context",
      elements: [{ type: "mrkdwn", text: mrkdwn([contextLine(f)], SLACK_LIMITS.fieldText) }],
    },
  ];
  const admin = safeHref(f.adminUrl);
  // A link rather than a button: URL buttons post an interaction to the app, and a webhook-only app
  // has no endpoint to acknowledge it, so Slack shows a warning next to the button.
  if (admin) blocks.push(section("*History*", [`<${admin}|Open this leak in Tourniquet>`]));
  const fallback = `${message.subject}: ${f.tokenType} key ${f.preview} is ${f.status}`;
  return {
    text: slackEscape(clip(fallback, SLACK_LIMITS.sectionText)),
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
  };
}

function sightingLines(f: LeakFacts): string[] {
  const lines = f.sightings.slice(0, MAX_SIGHTINGS).map((s) => {
    const href = safeHref(s.url);
    const where = href
      ? `<${href}|${slackEscape(clip(s.url, MAX_LINE)).replaceAll("|", "%7C")}>`
      : slackEscape(s.url ? clip(s.url, MAX_LINE) : "(no url given)");
    return `• ${where} (${slackEscape(clip(s.source, 40))}, first seen ${slackEscape(s.firstSeen)})`;
  });
  if (f.sightings.length > MAX_SIGHTINGS) lines.push(`+${f.sightings.length - MAX_SIGHTINGS} more`);
  return lines.length ? lines : ["(location not reported)"];
}

function actionLines(f: LeakFacts): string[] {
  const lines = f.actions.map((a) =>
    slackEscape(clip(`${a.at} ${a.step}: ${a.outcome} — ${a.detail}`, MAX_LINE)),
  );
  return lines.length ? lines.map((l) => `• ${l}`) : ["Nothing yet."];
}

function nextStepLines(f: LeakFacts): string[] {
  const lines = f.nextSteps.map((step, i) => `${i + 1}. ${slackEscape(clip(step, MAX_LINE))}`);
  if (f.replacement) {
    lines.push(
      `Replacement key ${code(f.replacement.keyId)}: ${slackEscape(clip(f.replacement.where, MAX_LINE))}`,
    );
  }
  return lines.length ? lines : ["No action needed."];
}

function contextLine(f: LeakFacts): string {
  const revoked = f.revokedAt ? ` · revoked ${slackEscape(f.revokedAt)}` : "";
  return `Leak ${code(f.leakId)} · mode ${slackEscape(f.mode)} · first seen ${slackEscape(f.firstSeen)}${revoked}`;
}

function field(title: string, value: string): SlackText {
  return { type: "mrkdwn", text: mrkdwn([`*${title}*`, value], SLACK_LIMITS.fieldText) };
}

function section(title: string, lines: string[]): SlackBlock {
  return {
    type: "section",
    text: { type: "mrkdwn", text: mrkdwn([title, ...lines], SLACK_LIMITS.sectionText) },
  };
}

/** Joins whole lines (already escaped) up to `limit` characters, so no entity or link is ever cut. */
function mrkdwn(lines: string[], limit: number): string {
  const kept: string[] = [];
  let length = 0;
  for (const [i, line] of lines.entries()) {
    const more = `…and ${lines.length - i} more`;
    if (length + line.length + 1 + more.length + 1 > limit) {
      kept.push(more);
      break;
    }
    kept.push(line);
    length += line.length + 1;
  }
  return kept.join("\n");
}

/** Slack's control characters; everything else is shown as is. */
export function slackEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Inline code; a backtick inside would end the span early. */
function code(text: string): string {
  return `\`${slackEscape(clip(text, MAX_LINE)).replaceAll("`", "'")}\``;
}

/** An http(s) URL usable as a link target, or undefined. */
function safeHref(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  // `|` ends the target in <target|label>; &, <, > are control characters (WHATWG already encodes <, >).
  const href = slackEscape(url.href.replaceAll("|", "%7C"));
  return href.length <= 2000 ? href : undefined;
}

/** At most `max` UTF-16 units, never splitting a surrogate pair. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = "";
  for (const char of text) {
    if (out.length + char.length > max - 1) break;
    out += char;
  }
  return `${out}…`;
}
