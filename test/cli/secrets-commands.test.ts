import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import { LocalSecretStore } from "../../lib/secrets/local-secret-store.js";
import { cli } from "../helpers/cli.js";

// `tourniquet secrets get NAME`: a replacement secret the local stack stored for a key's owner.

describe("tourniquet secrets get", () => {
  it("prints the secret stored under the name, and exits 3 for a name it does not hold", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tourniquet-secrets-"));
    const store = new LocalSecretStore(
      join(dataDir, "secrets"),
      LocalKeySealer.loadKey(join(dataDir, "queue.key")),
    );
    await store.put({
      leakId: "lk_0123456789abcdef01234567",
      keyId: "key_new",
      secret: "replacement-secret",
    });
    const name = LocalSecretStore.nameFor("lk_0123456789abcdef01234567", "key_new");
    expect(await cli(["secrets", "get", name], { TOURNIQUET_DATA_DIR: dataDir })).toEqual({
      code: 0,
      stdout: "replacement-secret\n",
      stderr: "",
    });
    expect(await cli(["secrets", "get", "lk_nope.key_nope"], { TOURNIQUET_DATA_DIR: dataDir })).toMatchObject(
      {
        code: 3,
        stderr: "tourniquet: no secret named lk_nope.key_nope\n",
      },
    );
  });
});
