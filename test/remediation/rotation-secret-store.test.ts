import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import type { Issuer, KeyRequest, Rotation, Verification } from "../../lib/issuers/issuer.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { silentLog } from "../../lib/log.js";
import { createChannels } from "../../lib/notify/channel-registry.js";
import { loadTemplates } from "../../lib/notify/render-leak-message.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import { remediateLeak, type WorkerDeps } from "../../lib/remediation/remediate-leak.js";
import { LocalSecretStore } from "../../lib/secrets/local-secret-store.js";
import { createTestStore, makeLeak, type TestStore } from "../helpers/dynamo.js";

// revoke_and_rotate with an adapter that must hand the new secret over (as some vendors' APIs do):
// the secret goes straight into the secret store, and the owner is told where, never the secret.

const TOKEN = "vend_leaked_token_0123456789abcdef";
const NEW_SECRET = "vend_replacement_secret_fedcba9876543210";

/** A vendor adapter whose rotate returns the new secret. */
class HandingOverIssuer implements Issuer {
  readonly name = "vendor";
  revoked = false;
  readonly requests: KeyRequest[] = [];
  constructor(private readonly where?: string) {}
  async verify(): Promise<Verification> {
    return {
      status: this.revoked ? "inactive" : "active",
      keyId: "key_old",
      owner: { id: "u1", email: "owner@example.test", name: "Owner" },
    };
  }
  async revoke(request: KeyRequest) {
    this.requests.push(request);
    const alreadyRevoked = this.revoked;
    this.revoked = true;
    return { keyId: "key_old", alreadyRevoked };
  }
  async rotate(request: KeyRequest): Promise<Rotation> {
    this.requests.push(request);
    return {
      keyId: "key_old",
      replacementKeyId: "key_new",
      deliveredToOwner: false,
      secret: NEW_SECRET,
      where: this.where,
    };
  }
}

let t: TestStore;
let dir: string;
beforeAll(async () => {
  t = await createTestStore();
  dir = mkdtempSync(join(tmpdir(), "tourniquet-rotation-"));
});
afterAll(() => t.close());

describe("revoke_and_rotate with a handed-over secret", () => {
  it("stores the secret sealed, records where, and tells the owner where without the secret", async () => {
    const config = parseConfig(
      {
        issuers: { vendor: { kind: "http", url: "https://vendor.example", secret: { env: "S" } } },
        token_types: { vendor_key: { issuer: "vendor", mode: "revoke_and_rotate" } },
      },
      { S: "x" },
    );
    const issuer = new HandingOverIssuer();
    const key = randomBytes(32);
    const sealer = new LocalKeySealer(key);
    const deps: WorkerDeps = {
      config,
      store: t.store,
      issuers: new IssuerRegistry(new Map([["vendor", issuer]]), config.token_types),
      sealer,
      queue: { send: async () => undefined },
      channels: createChannels(config, { outboxDir: join(dir, "outbox") }),
      templates: loadTemplates(),
      secrets: new LocalSecretStore(join(dir, "secrets"), key),
      log: silentLog,
      workerId: "test",
    };
    const leak = makeLeak({ tokenType: "vendor_key", issuer: "vendor", status: "pending" });
    await t.store.createLeak(leak);
    await remediateLeak(deps, {
      message: { leakId: leak.id, sealedToken: await sealer.seal(TOKEN, leak.id) },
      receiveCount: 1,
      maxReceives: 3,
    });

    const done = await t.store.getLeak(leak.id);
    expect(done).toMatchObject({
      status: "revoked",
      replacement: { keyId: "key_new", deliveredBy: "secret_store" },
    });
    expect(done?.replacement?.where).toMatch(/secrets get /);
    const name = /secrets get (\S+)/.exec(done?.replacement?.where ?? "")?.[1] ?? "";
    await expect(new LocalSecretStore(join(dir, "secrets"), key).get(name)).resolves.toBe(NEW_SECRET);

    const [file] = readdirSync(join(dir, "outbox"));
    const message = readFileSync(join(dir, "outbox", file ?? ""), "utf8");
    expect(message).toContain("key_new");
    expect(message).toContain("secrets get");
    expect(message).not.toContain(NEW_SECRET);
    expect(message).not.toContain(TOKEN);
    expect(JSON.stringify(done)).not.toContain(NEW_SECRET);
  });

  it("without a secret store, drops a handed-over secret the vendor keeps readable, and tells the owner where", async () => {
    const config = parseConfig(
      {
        issuers: { vendor: { kind: "http", url: "https://vendor.example", secret: { env: "S" } } },
        token_types: { vendor_key: { issuer: "vendor", mode: "revoke_and_rotate" } },
      },
      { S: "x" },
    );
    const issuer = new HandingOverIssuer("the vendor's console, Keys page");
    const sealer = new LocalKeySealer(randomBytes(32));
    const outbox = join(dir, "outbox-no-store");
    const deps: WorkerDeps = {
      config,
      store: t.store,
      issuers: new IssuerRegistry(new Map([["vendor", issuer]]), config.token_types),
      sealer,
      queue: { send: async () => undefined },
      channels: createChannels(config, { outboxDir: outbox }),
      templates: loadTemplates(),
      log: silentLog,
      workerId: "test",
    };
    const leak = makeLeak({
      tokenType: "vendor_key",
      issuer: "vendor",
      status: "pending",
      fingerprint: fingerprintToken(TOKEN),
    });
    await t.store.createLeak(leak);
    await remediateLeak(deps, {
      message: { leakId: leak.id, sealedToken: await sealer.seal(TOKEN, leak.id) },
      receiveCount: 1,
      maxReceives: 3,
    });

    const done = await t.store.getLeak(leak.id);
    expect(done).toMatchObject({
      status: "revoked",
      replacement: { keyId: "key_new", deliveredBy: "issuer", where: "the vendor's console, Keys page" },
    });
    // Revoke and rotate are told which token leaked (its fingerprint), so a slot can be checked.
    expect(issuer.requests.map((r) => r.fingerprint)).toEqual([leak.fingerprint, leak.fingerprint]);
    const [file] = readdirSync(outbox);
    const message = readFileSync(join(outbox, file ?? ""), "utf8");
    expect(message).toContain("console, Keys page");
    expect(message).not.toContain(NEW_SECRET);
    expect(JSON.stringify(done)).not.toContain(NEW_SECRET);
  });
});
