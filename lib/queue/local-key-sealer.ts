import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { SealError } from "../errors.js";
import { formatBox, gcmOpen, gcmSeal, parseBox } from "./aes-gcm.js";
import type { TokenSealer } from "./token-sealer.js";

const PREFIX = "v1.local";

/** The local stack's sealer: AES-256-GCM with a 32-byte key kept in the data dir (mode 0600). */
export class LocalKeySealer implements TokenSealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new SealError("local sealing key must be 32 bytes");
  }

  /** Loads the key file, creating it on first use. */
  static fromKeyFile(path: string): LocalKeySealer {
    return new LocalKeySealer(LocalKeySealer.loadKey(path));
  }

  /** The 32-byte key kept base64 in `path` (mode 0600), created on first use. */
  static loadKey(path: string): Buffer {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" });
    }
    chmodSync(path, 0o600);
    return Buffer.from(readFileSync(path, "utf8").trim(), "base64");
  }

  async seal(token: string, leakId: string): Promise<string> {
    return formatBox(PREFIX, gcmSeal(this.key, token, leakId));
  }

  async open(sealed: string, leakId: string): Promise<string> {
    const { head, box } = parseBox(sealed, 2);
    if (head.join(".") !== PREFIX) throw new SealError("not a locally sealed token");
    return gcmOpen(this.key, box, leakId);
  }
}
