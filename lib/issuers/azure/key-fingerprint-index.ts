import { fingerprintToken } from "../../intake/fingerprint.js";
import type { AzureAccount, AzureKeys, KeySlot } from "./azure-management.js";

// Which account and slot holds a key, by the key's SHA-256 (the leak's own fingerprint): never the
// keys themselves. Entries go stale when a key is regenerated elsewhere, so a hit is always confirmed
// against the account's keys before it is believed.

export interface IndexedAccount {
  account: AzureAccount;
  fingerprints: Record<KeySlot, string>;
}

export const keyFingerprints = (keys: AzureKeys): Record<KeySlot, string> => ({
  Key1: fingerprintToken(keys.key1),
  Key2: fingerprintToken(keys.key2),
});

/** Replaced keys remembered, so re-verifying one after its revocation costs one listKeys, not a search. */
const RETIRED_MAX = 10_000;

export class KeyFingerprintIndex {
  private accounts = new Map<string, IndexedAccount>();
  private bySlot = new Map<string, { accountId: string; slot: KeySlot }>();
  private readonly retiredBySlot = new Map<string, { accountId: string; slot: KeySlot }>();

  get size(): number {
    return this.accounts.size;
  }

  account(accountId: string): AzureAccount | undefined {
    return this.accounts.get(accountId)?.account;
  }

  lookup(fingerprint: string): { account: AzureAccount; slot: KeySlot } | undefined {
    const hit = this.bySlot.get(fingerprint);
    const entry = hit && this.accounts.get(hit.accountId);
    return hit && entry ? { account: entry.account, slot: hit.slot } : undefined;
  }

  /** Where a key was before it was replaced (regenerated), if this index saw it there. */
  retired(fingerprint: string): { accountId: string; slot: KeySlot } | undefined {
    return this.retiredBySlot.get(fingerprint);
  }

  /** Records (or corrects) one account's fingerprints, e.g. after a listKeys or regenerateKey. */
  set(account: AzureAccount, fingerprints: Record<KeySlot, string>): void {
    const old = this.accounts.get(account.id);
    if (old) {
      for (const [slot, fp] of Object.entries(old.fingerprints) as [KeySlot, string][]) {
        if (this.bySlot.get(fp)?.accountId === account.id) this.bySlot.delete(fp);
        if (fingerprints[slot] !== fp) this.retire(fp, account.id, slot);
      }
    }
    this.accounts.set(account.id, { account, fingerprints });
    this.bySlot.set(fingerprints.Key1, { accountId: account.id, slot: "Key1" });
    this.bySlot.set(fingerprints.Key2, { accountId: account.id, slot: "Key2" });
  }

  /** Remembers that the key was in this slot and has been replaced. */
  retire(fingerprint: string, accountId: string, slot: KeySlot): void {
    this.retiredBySlot.delete(fingerprint);
    this.retiredBySlot.set(fingerprint, { accountId, slot });
    // Oldest first out: a Map iterates in insertion order.
    if (this.retiredBySlot.size > RETIRED_MAX) {
      const oldest = this.retiredBySlot.keys().next().value;
      if (oldest !== undefined) this.retiredBySlot.delete(oldest);
    }
  }

  /** Replaces the whole index with a fresh read of every account. */
  replaceAll(entries: readonly IndexedAccount[]): void {
    this.accounts = new Map();
    this.bySlot = new Map();
    for (const entry of entries) this.set(entry.account, entry.fingerprints);
  }
}
