// Where a replacement secret goes when an issuer adapter must hand it to Tourniquet instead of giving
// it to the owner itself: a secret store the owner can read, so no message ever carries the secret.

export interface StoredSecret {
  /** What the owner is told: where and how to fetch the secret (never the secret). */
  where: string;
}

export interface SecretStore {
  /** Stores the secret under a name derived from the leak and key; storing again replaces it. */
  put(input: {
    leakId: string;
    keyId: string;
    secret: string;
    owner?: string | undefined;
  }): Promise<StoredSecret>;
}
