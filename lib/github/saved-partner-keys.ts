import { type PartnerKeySetDocument, type PartnerKeys, parsePartnerKeySet } from "./partner-key-set.js";

// The last key set the scheduled sweep fetched from GitHub, kept so that a cold intake can verify
// reports while GitHub's key endpoint is down (partner-key-cache.ts `coldFallback`).

export interface SavedPartnerKeySet {
  document: PartnerKeySetDocument;
  /** ISO-8601 time the sweep fetched it. */
  fetchedAt: string;
}

export interface SavedPartnerKeysStore {
  save(saved: SavedPartnerKeySet): Promise<void>;
  load(): Promise<SavedPartnerKeySet | undefined>;
}

/** The saved set as keys, for PartnerKeyCache's `coldFallback`; checked again, as any stored input. */
export function savedPartnerKeysLoader(store: SavedPartnerKeysStore): () => Promise<PartnerKeys | undefined> {
  return async () => {
    const saved = await store.load();
    return saved && parsePartnerKeySet(saved.document);
  };
}
