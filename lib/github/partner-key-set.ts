import { createPublicKey, type KeyObject } from "node:crypto";
import * as z from "zod";
import { KeySetUnavailableError } from "../errors.js";
import { readCapped } from "../http/read-capped.js";

// GitHub's partner signing keys: GET {url} → {public_keys:[{key_identifier, key (PEM), is_current}]}.
// Keys with is_current:false still sign reports GitHub retries, so every listed key is accepted.

export const DEFAULT_GITHUB_PUBLIC_KEYS_URL = "https://api.github.com/meta/public_keys/secret_scanning";
/** GitHub's set is about 1 KB; a few hundred keys would still fit. */
const MAX_KEY_SET_BYTES = 256 * 1024;

const keySetSchema = z.object({
  public_keys: z.array(
    z.object({
      key_identifier: z.string().min(1),
      key: z.string().min(1),
      is_current: z.boolean().optional(),
    }),
  ),
});

export type PartnerKeys = ReadonlyMap<string, KeyObject>;

/** The key set as GitHub publishes it, validated: what the sweep saves for cold starts. */
export type PartnerKeySetDocument = z.infer<typeof keySetSchema>;

export function parsePartnerKeySet(json: unknown): PartnerKeys {
  return keysOf(keySetSchema.parse(json));
}

export function keysOf(document: PartnerKeySetDocument): PartnerKeys {
  const keys = new Map<string, KeyObject>();
  for (const entry of document.public_keys) {
    keys.set(entry.key_identifier, createPublicKey(entry.key));
  }
  return keys;
}

export interface KeySetFetchOptions {
  url: string;
  fetch?: typeof fetch;
  /** Optional GitHub token: authenticated requests get a higher rate limit. */
  token?: string | undefined;
  timeoutMs?: number;
}

export function partnerKeySetLoader(options: KeySetFetchOptions): () => Promise<PartnerKeys> {
  const fetchDocument = partnerKeySetFetcher(options);
  return async () => keysOf(await fetchDocument());
}

/** GET of the key set, checked: every key parses as a public key, or KeySetUnavailableError. */
export function partnerKeySetFetcher(options: KeySetFetchOptions): () => Promise<PartnerKeySetDocument> {
  const doFetch = options.fetch ?? globalThis.fetch;
  return async () => {
    const headers: Record<string, string> = { accept: "application/json", "user-agent": "tourniquet" };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let response: Response;
    try {
      response = await doFetch(options.url, {
        headers,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
    } catch (cause) {
      throw new KeySetUnavailableError(`cannot fetch partner signing keys from ${options.url}`, { cause });
    }
    if (!response.ok) {
      throw new KeySetUnavailableError(`partner signing keys: HTTP ${response.status} from ${options.url}`);
    }
    const answer = await readCapped(response, MAX_KEY_SET_BYTES).catch((cause: unknown) => {
      throw new KeySetUnavailableError(`cannot read partner signing keys from ${options.url}`, { cause });
    });
    if (answer.truncated) {
      throw new KeySetUnavailableError(
        `partner signing keys from ${options.url}: answer larger than ${MAX_KEY_SET_BYTES} bytes`,
      );
    }
    try {
      const document = keySetSchema.parse(JSON.parse(answer.text));
      keysOf(document);
      return document;
    } catch (cause) {
      throw new KeySetUnavailableError(`partner signing keys from ${options.url} are malformed`, { cause });
    }
  };
}
