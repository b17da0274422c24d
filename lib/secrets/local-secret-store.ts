import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NotFoundError } from "../errors.js";
import { formatBox, gcmOpen, gcmSeal, parseBox } from "../queue/aes-gcm.js";
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

  /** For the owner (locally, whoever runs the CLI): the secret stored under `name`. */
  async get(name: string): Promise<string> {
    if (!/^[A-Za-z0-9_.-]{1,200}$/.test(name) || name.includes(".."))
      throw new NotFoundError(`no secret named ${name}`);
    let sealed: string;
    try {
      sealed = await readFile(join(this.dir, `${name}.sealed`), "utf8");
    } catch {
      throw new NotFoundError(`no secret named ${name}`);
    }
    return gcmOpen(this.key, parseBox(sealed, 2).box, name);
  }
}
