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

/** Leaks one message may carry: GitHub's POST /credentials/revoke takes 1,000 tokens a call. */
export const MAX_LEAKS_PER_MESSAGE = 1_000;

export interface RemediationQueue {
  send(messages: readonly RemediationMessage[]): Promise<void>;
}

export interface Delivery {
  message: RemediationMessage;
  /** 1 on first delivery; the worker fails the leak when this reaches the queue's maximum. */
  receiveCount: number;
  maxReceives: number;
}

/** Handles one delivery; throwing makes the queue deliver it again later (or dead-letter it). */
export type RemediationConsumer = (delivery: Delivery) => Promise<void>;

export function encodeRemediationMessage(message: RemediationMessage): string {
  const { leakId, sealedToken, together } = message;
  return JSON.stringify(together?.length ? { leakId, sealedToken, together } : { leakId, sealedToken });
}

const LEAK_ID = /^[A-Za-z0-9_-]{1,100}$/;

export function decodeRemediationMessage(body: string): RemediationMessage {
  const parsed: unknown = JSON.parse(body);
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
