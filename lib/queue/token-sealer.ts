// Seals the raw token for the trip through the queue: authenticated encryption bound to the leak id,
// so a message cannot be replayed against another leak. Adapters: local key file, KMS envelope.

export interface TokenSealer {
  seal(token: string, leakId: string): Promise<string>;
  /** Throws SealError when the message was tampered with, sealed for another leak, or with another key. */
  open(sealed: string, leakId: string): Promise<string>;
}
