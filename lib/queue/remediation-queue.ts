// The queue port between intake and the remediation worker. The token travels sealed (token-sealer.ts).

export interface RemediationMessage {
  leakId: string;
  /** The raw token, encrypted and bound to the leak id; never plaintext. */
  sealedToken: string;
}

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
  return JSON.stringify({ leakId: message.leakId, sealedToken: message.sealedToken });
}

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
  const { leakId, sealedToken } = parsed as RemediationMessage;
  return { leakId, sealedToken };
}
