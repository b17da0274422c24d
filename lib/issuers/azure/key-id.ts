import { IssuerError } from "../../errors.js";
import type { KeySlot } from "./azure-management.js";

// An Azure key has no id of its own: Tourniquet names it by its account and slot,
// `<account resource id>#Key1`, which is all regenerateKey needs.

export interface AzureKeyRef {
  accountId: string;
  slot: KeySlot;
}

export const formatKeyId = (ref: AzureKeyRef) => `${ref.accountId}#${ref.slot}`;

export function parseKeyId(keyId: string): AzureKeyRef {
  const at = keyId.lastIndexOf("#");
  const accountId = keyId.slice(0, at);
  const slot = keyId.slice(at + 1);
  if (at <= 0 || (slot !== "Key1" && slot !== "Key2") || !accountId.startsWith("/subscriptions/")) {
    throw new IssuerError(`not an Azure key id (<account resource id>#Key1|Key2): ${keyId}`, {
      transient: false,
    });
  }
  return { accountId, slot };
}

/** The value of one slot; the caller fingerprints it and lets it go. */
export const slotValue = (keys: { key1: string; key2: string }, slot: KeySlot) =>
  slot === "Key1" ? keys.key1 : keys.key2;
