import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatBox, gcmSeal } from "../queue/aes-gcm.js";
import type { SecretStore, StoredSecret } from "./secret-store.js";

/**
 * The local stack's secret store: one AES-256-GCM file per secret under the data dir, sealed with the
 * local key and bound to its name, readable with `npm run tourniquet -- secrets get <name>`.
 */
export class LocalSecretStore implements SecretStore {
  constructor(
    private readonly dir: string,
    private readonly key: Buffer,
  ) {}

  static nameFor(leakId: string, keyId: string): string {
    return `${leakId}.${keyId.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  }

  async put(input: { leakId: string; keyId: string; secret: string }): Promise<StoredSecret> {
    const name = LocalSecretStore.nameFor(input.leakId, input.keyId);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, `${name}.sealed`);
    await writeFile(file, formatBox("v1.secret", gcmSeal(this.key, input.secret, name)), { mode: 0o600 });
    return { where: `the local secret store: npm run tourniquet -- secrets get ${name}` };
  }
}
