import { isReportPartId } from "../intake/report-part.js";

// The queue port between intake and the remediation worker. The token travels sealed (token-sealer.ts).

export interface RemediationMessage {
  leakId: string;
  /** The raw token, encrypted and bound to the leak id; never plaintext. */
  sealedToken: string;
  /**
   * Other leaks of the same issuer to remediate with this one, so that their revocations go in one call
   * (remediation/revoke-together.ts). Ids only: each token is opened from its leak's own sealed copy.
   */
  together?: readonly string[] | undefined;
}

/**
 * A GitHub App alert whose secret the worker fetches (github/fetch-reported-alert.ts). The id names the
 * alert's record in the store, which holds the rest; no secret travels.
 */
export interface AlertFetchMessage {
  alertId: string;
}

/**
 * A part of a mass report whose tokens the worker records (intake/record-report-part.ts). The id names
 * the part's item in the store, which holds its tokens sealed; no secret travels.
 */
export interface ReportPartMessage {
  partId: string;
}

/** What the queue carries. */
export type QueueMessage = RemediationMessage | AlertFetchMessage | ReportPartMessage;

export const isAlertFetch = (message: QueueMessage): message is AlertFetchMessage => "alertId" in message;

export const isReportPart = (message: QueueMessage): message is ReportPartMessage => "partId" in message;

/** What a message is about, for logs: its leak, its alert or its report part. */
export const subjectOf = (message: QueueMessage): string =>
  isAlertFetch(message) ? message.alertId : isReportPart(message) ? message.partId : message.leakId;

/** Leaks one message may carry: GitHub's POST /credentials/revoke takes 1,000 tokens a call. */
export const MAX_LEAKS_PER_MESSAGE = 1_000;

export interface SendOptions {
  /** Delivered no sooner than this (SQS's DelaySeconds: at most 900). */
  delaySeconds?: number | undefined;
}

/** SQS's longest delay. */
export const MAX_DELAY_SECONDS = 900;

export interface RemediationQueue {
  send(messages: readonly QueueMessage[], options?: SendOptions): Promise<void>;
}

export interface Delivery<M extends QueueMessage = RemediationMessage> {
  message: M;
  /** 1 on first delivery; the worker fails the leak when this reaches the queue's maximum. */
  receiveCount: number;
  maxReceives: number;
}

/** Handles one delivery; throwing makes the queue deliver it again later (or dead-letter it). */
export type RemediationConsumer = (delivery: Delivery<QueueMessage>) => Promise<void>;

export function encodeRemediationMessage(message: QueueMessage): string {
  if (isAlertFetch(message)) return JSON.stringify({ alertId: message.alertId });
  if (isReportPart(message)) return JSON.stringify({ partId: message.partId });
  const { leakId, sealedToken, together } = message;
  return JSON.stringify(together?.length ? { leakId, sealedToken, together } : { leakId, sealedToken });
}

const LEAK_ID = /^[A-Za-z0-9_-]{1,100}$/;

const ALERT_ID = /^al_[0-9a-f]{24}$/;

export function decodeRemediationMessage(body: string): QueueMessage {
  const parsed: unknown = JSON.parse(body);
  if (typeof parsed === "object" && parsed !== null && "alertId" in parsed) {
    const { alertId } = parsed as AlertFetchMessage;
    if (typeof alertId !== "string" || !ALERT_ID.test(alertId))
      throw new TypeError("alert fetch message must be {alertId: al_…}");
    return { alertId };
  }
  if (typeof parsed === "object" && parsed !== null && "partId" in parsed) {
    const { partId } = parsed as ReportPartMessage;
    if (typeof partId !== "string" || !isReportPartId(partId))
      throw new TypeError("report part message must be {partId: rp_…}");
    return { partId };
  }
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    typeof (parsed as RemediationMessage).leakId !== "string" ||
    typeof (parsed as RemediationMessage).sealedToken !== "string"
  ) {
    throw new TypeError("remediation message must be {leakId, sealedToken}");
  }
  const { leakId, sealedToken, together } = parsed as RemediationMessage;
  if (together === undefined) return { leakId, sealedToken };
  if (
    !Array.isArray(together) ||
    together.length >= MAX_LEAKS_PER_MESSAGE ||
    !together.every((id) => typeof id === "string" && LEAK_ID.test(id))
  ) {
    throw new TypeError(
      `remediation message's together must be at most ${MAX_LEAKS_PER_MESSAGE - 1} leak ids`,
    );
  }
  return { leakId, sealedToken, together: [...together] };
}

/**
 * Messages for leaks to remediate together: `maxPerMessage` a message, the first of each carrying its
 * sealed token as any message does.
 */
export function togetherMessages(
  leaks: readonly { id: string; sealedToken?: string | undefined }[],
  maxPerMessage = MAX_LEAKS_PER_MESSAGE,
): RemediationMessage[] {
  const messages: RemediationMessage[] = [];
  const size = Math.max(1, Math.min(maxPerMessage, MAX_LEAKS_PER_MESSAGE));
  for (let i = 0; i < leaks.length; i += size) {
    const [first, ...rest] = leaks.slice(i, i + size);
    if (!first) continue;
    messages.push({
      leakId: first.id,
      sealedToken: first.sealedToken ?? "",
      ...(rest.length ? { together: rest.map((leak) => leak.id) } : {}),
    });
  }
  return messages;
}
