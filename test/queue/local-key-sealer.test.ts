import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SealError } from "../../lib/errors.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";

const TOKEN = "tqs_live_4f8a1c9e2b7d6035aa91f2a";

describe("LocalKeySealer", () => {
  const dirs: string[] = [];
  const keyFile = () => {
    const dir = mkdtempSync(join(tmpdir(), "tq-sealer-"));
    dirs.push(dir);
    return join(dir, "nested", "queue.key");
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("opens what it sealed for the same leak", async () => {
    const sealer = LocalKeySealer.fromKeyFile(keyFile());
    const sealed = await sealer.seal(TOKEN, "leak-1");
    expect(sealed.startsWith("v1.local.")).toBe(true);
    await expect(sealer.open(sealed, "leak-1")).resolves.toBe(TOKEN);
  });

  it("refuses to open a token sealed for another leak", async () => {
    const sealer = LocalKeySealer.fromKeyFile(keyFile());
    const sealed = await sealer.seal(TOKEN, "leak-1");
    await expect(sealer.open(sealed, "leak-2")).rejects.toBeInstanceOf(SealError);
  });

  it("refuses a tampered, truncated or foreign sealed token", async () => {
    const sealer = LocalKeySealer.fromKeyFile(keyFile());
    const sealed = await sealer.seal(TOKEN, "leak-1");
    const parts = sealed.split(".");
    const ct = Buffer.from(parts[3] as string, "base64url");
    ct[0] = (ct[0] as number) ^ 1;
    const tampered = [...parts.slice(0, 3), ct.toString("base64url"), parts[4]].join(".");
    await expect(sealer.open(tampered, "leak-1")).rejects.toBeInstanceOf(SealError);
    await expect(sealer.open(parts.slice(0, 4).join("."), "leak-1")).rejects.toBeInstanceOf(SealError);
    await expect(sealer.open(sealed.replace("v1.local", "v1.other"), "leak-1")).rejects.toBeInstanceOf(
      SealError,
    );
    const otherKey = LocalKeySealer.fromKeyFile(keyFile());
    await expect(otherKey.open(sealed, "leak-1")).rejects.toBeInstanceOf(SealError);
  });

  it("creates the key file with mode 0600 and reuses it", async () => {
    const path = keyFile();
    const first = LocalKeySealer.fromKeyFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const key = readFileSync(path, "utf8");
    expect(Buffer.from(key.trim(), "base64")).toHaveLength(32);

    const second = LocalKeySealer.fromKeyFile(path);
    expect(readFileSync(path, "utf8")).toBe(key);
    await expect(second.open(await first.seal(TOKEN, "leak-1"), "leak-1")).resolves.toBe(TOKEN);
  });

  it("never lets the token show in the sealed output", async () => {
    const sealer = LocalKeySealer.fromKeyFile(keyFile());
    const sealed = await sealer.seal(TOKEN, "leak-1");
    expect(sealed).not.toContain(TOKEN);
    expect(sealed).not.toContain(Buffer.from(TOKEN).toString("base64url"));
    expect(sealed).not.toContain(Buffer.from(TOKEN).toString("hex"));
    // Random IVs: the same token sealed twice looks different.
    expect(await sealer.seal(TOKEN, "leak-1")).not.toBe(sealed);
  });

  it("rejects a key that is not 32 bytes", () => {
    expect(() => new LocalKeySealer(Buffer.alloc(16))).toThrow(SealError);
  });
});
