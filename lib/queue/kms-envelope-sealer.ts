import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { awsCall } from "../aws/aws-call.js";
import { isAwsError, SealError } from "../errors.js";
import { formatBox, gcmOpen, gcmSeal, parseBox } from "./aes-gcm.js";
import type { TokenSealer } from "./token-sealer.js";

// Envelope encryption: KMS issues a data key, tokens are sealed locally with AES-256-GCM.
// One data key serves many seals (an intake call may seal 1,000 tokens; a KMS call per token
// would be slow and costly), bounded by age and use count so a leaked data key exposes little.

const VERSION = "v1";
const MODE = "kms";
const ENCRYPTION_CONTEXT = { purpose: "tourniquet-token" };
/** Decrypted data keys kept for `open`; the worker sees few distinct keys, so this rarely evicts. */
const OPEN_CACHE_SIZE = 100;
/** KMS errors that mean "this blob is not ours or was altered", as opposed to an outage. */
const BAD_CIPHERTEXT = ["InvalidCiphertextException", "IncorrectKeyException"];

/** A blob from KMS's answer as a Buffer; empty when absent. */
const blobOf = (value: Uint8Array | undefined): Buffer =>
  value ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.alloc(0);

export interface KmsEnvelopeSealerOptions {
  kms: KMSClient;
  /** Key id, key ARN, alias name or alias ARN of the KMS key that wraps the data keys. */
  keyId: string;
  /** How long one data key is used for sealing and kept decrypted for opening. Default 5 minutes. */
  dataKeyTtlMs?: number;
  /** How many tokens one data key seals before a new one is requested. Default 10,000. */
  maxDataKeyUses?: number;
  now?: () => number;
}

interface SealingKey {
  key: Buffer;
  /** base64url of the KMS-encrypted data key, carried in every sealed token. */
  blob: string;
  expiresAt: number;
  uses: number;
}

interface OpeningKey {
  key: Promise<Buffer>;
  expiresAt: number;
}

export class KmsEnvelopeSealer implements TokenSealer {
  private readonly kms: KMSClient;
  private readonly keyId: string;
  private readonly ttlMs: number;
  private readonly maxUses: number;
  private readonly now: () => number;
  private current: SealingKey | undefined;
  /** The GenerateDataKey call in progress, shared by every seal that needs a fresh key (single flight). */
  private pending: Promise<SealingKey> | undefined;
  /** Insertion-ordered, so the first entry is the oldest when the cache is full. */
  private readonly openCache = new Map<string, OpeningKey>();

  constructor(options: KmsEnvelopeSealerOptions) {
    this.kms = options.kms;
    this.keyId = options.keyId;
    this.ttlMs = options.dataKeyTtlMs ?? 5 * 60_000;
    this.maxUses = options.maxDataKeyUses ?? 10_000;
    this.now = options.now ?? Date.now;
    if (!(this.ttlMs >= 0)) throw new RangeError("dataKeyTtlMs must be >= 0");
    if (!Number.isInteger(this.maxUses) || this.maxUses < 1) {
      throw new RangeError("maxDataKeyUses must be a positive integer");
    }
  }

  async seal(token: string, leakId: string): Promise<string> {
    const dataKey = await this.sealingKey();
    return formatBox(`${VERSION}.${MODE}.${dataKey.blob}`, gcmSeal(dataKey.key, token, leakId));
  }

  async open(sealed: string, leakId: string): Promise<string> {
    const { head, box } = parseBox(sealed, 3);
    const [version, mode, blob] = head;
    if (version !== VERSION || mode !== MODE || !blob) throw new SealError("not a KMS-sealed token");
    return gcmOpen(await this.openingKey(blob), box, leakId);
  }

  /** Takes one use of the current data key, fetching a new one when it is spent or too old. */
  private async sealingKey(): Promise<SealingKey> {
    for (;;) {
      const key = this.current;
      if (key && key.uses < this.maxUses && this.now() < key.expiresAt) {
        key.uses++;
        return key;
      }
      this.pending ??= this.generate().finally(() => {
        this.pending = undefined;
      });
      const fresh = await this.pending;
      // A fresh key is taken even if a zero TTL already expired it, so the loop always ends;
      // when many waiters exhaust its uses, the rest go round and share the next request.
      if (fresh.uses < this.maxUses) {
        fresh.uses++;
        return fresh;
      }
    }
  }

  private async generate(): Promise<SealingKey> {
    const command = new GenerateDataKeyCommand({
      KeyId: this.keyId,
      KeySpec: "AES_256",
      EncryptionContext: ENCRYPTION_CONTEXT,
    });
    const out = await awsCall("kms:GenerateDataKey", () => this.kms.send(command));
    const key = blobOf(out.Plaintext);
    const wrapped = blobOf(out.CiphertextBlob);
    if (key.length !== 32 || wrapped.length === 0) throw new SealError("KMS returned no usable data key");
    const blob = wrapped.toString("base64url");
    const expiresAt = this.now() + this.ttlMs;
    this.current = { key, blob, expiresAt, uses: 0 };
    // Tokens sealed in this process can be opened without a Decrypt call.
    this.remember(blob, { key: Promise.resolve(key), expiresAt });
    return this.current;
  }

  /** The decrypted data key for a blob, from the cache or one (shared) Decrypt call. */
  private openingKey(blob: string): Promise<Buffer> {
    const cached = this.openCache.get(blob);
    if (cached && this.now() < cached.expiresAt) return cached.key;
    const entry: OpeningKey = { key: this.decrypt(blob), expiresAt: this.now() + this.ttlMs };
    // Failures are not cached: the next delivery should ask KMS again.
    entry.key.catch(() => {
      if (this.openCache.get(blob) === entry) this.openCache.delete(blob);
    });
    this.remember(blob, entry);
    return entry.key;
  }

  private async decrypt(blob: string): Promise<Buffer> {
    try {
      const command = new DecryptCommand({
        KeyId: this.keyId,
        CiphertextBlob: Buffer.from(blob, "base64url"),
        EncryptionContext: ENCRYPTION_CONTEXT,
      });
      const out = await awsCall("kms:Decrypt", () => this.kms.send(command));
      const key = blobOf(out.Plaintext);
      if (key.length !== 32) throw new SealError("KMS returned no usable data key");
      return key;
    } catch (error) {
      // A forged or foreign data key is a SealError; outages (transient AwsErrors) stay as they are,
      // so the delivery is retried.
      if (isAwsError(error, ...BAD_CIPHERTEXT)) {
        throw new SealError("sealed token's data key does not decrypt with this KMS key", { cause: error });
      }
      throw error;
    }
  }

  private remember(blob: string, entry: OpeningKey): void {
    this.openCache.delete(blob);
    this.openCache.set(blob, entry);
    while (this.openCache.size > OPEN_CACHE_SIZE) {
      const oldest = this.openCache.keys().next().value as string;
      this.openCache.delete(oldest);
    }
  }
}
