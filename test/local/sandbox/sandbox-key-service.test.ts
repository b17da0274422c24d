import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_SANDBOX_OWNER,
  hashToken,
  SandboxKeyService,
} from "../../../local/sandbox/sandbox-key-service.js";
import { generateSandboxToken } from "../../../local/sandbox/sandbox-token.js";

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "sandbox-keys-"));
  dirs.push(dir);
  return join(dir, "nested", "keys.json");
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("SandboxKeyService", () => {
  it("issues active keys for the default owner and verifies them with evidence", () => {
    const service = new SandboxKeyService({ now: () => Date.parse("2026-01-01T00:00:00Z") });
    const { token, keyId, status } = service.issue();
    expect(status).toBe("active");
    expect(keyId).toMatch(/^key_[0-9a-f]{24}$/);
    expect(service.verify(token)).toEqual({
      status: "active",
      keyId,
      owner: DEFAULT_SANDBOX_OWNER,
      evidence: { created_at: "2026-01-01T00:00:00.000Z", last_used_at: null },
    });
  });

  it("stores only the token's hash", () => {
    const service = new SandboxKeyService();
    const { token, keyId } = service.issue();
    const key = service.get(keyId);
    expect(key?.tokenHash).toBe(hashToken(token));
    expect(JSON.stringify(key)).not.toContain(token);
  });

  it("fills in a partial owner, giving one email one owner id", () => {
    const service = new SandboxKeyService();
    const a = service.get(service.issue({ email: "ada@example.test", name: "Ada" }).keyId);
    const b = service.get(service.issue({ email: "ada@example.test" }).keyId);
    expect(a?.owner).toMatchObject({ email: "ada@example.test", name: "Ada" });
    expect(a?.owner.id).toMatch(/^user_/);
    expect(b?.owner.id).toBe(a?.owner.id);
  });

  it("answers unknown for malformed and never-issued tokens", () => {
    const service = new SandboxKeyService();
    service.issue();
    expect(service.verify("not-a-token")).toEqual({ status: "unknown" });
    expect(service.verify(generateSandboxToken())).toEqual({ status: "unknown" });
  });

  it("revokes once: a second revoke is a no-op reporting alreadyRevoked", () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const service = new SandboxKeyService({ now: () => now });
    const { token, keyId } = service.issue();
    expect(service.revoke(keyId)).toEqual({
      keyId,
      alreadyRevoked: false,
      revokedAt: "2026-01-01T00:00:00.000Z",
    });
    now += 60_000;
    expect(service.revoke(keyId)).toEqual({
      keyId,
      alreadyRevoked: true,
      revokedAt: "2026-01-01T00:00:00.000Z",
    });
    expect(service.get(keyId)?.revocations).toBe(1);
    expect(service.verify(token)).toMatchObject({
      status: "inactive",
      keyId,
      evidence: { revoked_at: "2026-01-01T00:00:00.000Z" },
    });
    expect(service.revoke("key_missing")).toBeUndefined();
  });

  it("records use of active keys only", () => {
    const service = new SandboxKeyService({ now: () => Date.parse("2026-01-02T03:04:05Z") });
    const { token, keyId } = service.issue();
    expect(service.recordUse(token)).toBe(true);
    expect(service.verify(token).evidence).toMatchObject({ last_used_at: "2026-01-02T03:04:05.000Z" });
    service.revoke(keyId);
    expect(service.recordUse(token)).toBe(false);
  });

  it("rotates by delivering a new secret to the owner, not to the caller, at most once per key", async () => {
    const delivered: { owner: unknown; keyId: string; token: string }[] = [];
    const service = new SandboxKeyService({
      deliverSecret: (owner, keyId, token) => void delivered.push({ owner, keyId, token }),
    });
    const { keyId } = service.issue({ email: "ada@example.test", name: "Ada" });
    const rotation = await service.rotate(keyId);
    expect(rotation).toEqual({ keyId, replacementKeyId: expect.stringMatching(/^key_/) });
    expect(JSON.stringify(rotation)).not.toMatch(/tqs_/);
    expect(delivered).toHaveLength(1);
    const [delivery] = delivered;
    expect(delivery?.keyId).toBe(rotation?.replacementKeyId);
    expect(delivery?.owner).toEqual(service.get(keyId)?.owner);
    expect(service.verify(delivery?.token ?? "")).toMatchObject({
      status: "active",
      keyId: rotation?.replacementKeyId,
    });
    expect(service.get(keyId)?.replacedBy).toBe(rotation?.replacementKeyId);

    // Retries, even concurrent ones, get the same replacement and deliver nothing new.
    const again = await Promise.all([service.rotate(keyId), service.rotate(keyId)]);
    expect(again).toEqual([rotation, rotation]);
    expect(delivered).toHaveLength(1);
    expect(await service.rotate("key_missing")).toBeUndefined();
  });

  it("records no replacement when delivery fails, so rotate can be retried", async () => {
    let failing = true;
    const service = new SandboxKeyService({
      deliverSecret: () => {
        if (failing) throw new Error("mail server down");
      },
    });
    const { keyId } = service.issue();
    await expect(service.rotate(keyId)).rejects.toThrow("mail server down");
    expect(service.get(keyId)?.replacedBy).toBeUndefined();
    expect(service.list()).toHaveLength(1);
    failing = false;
    expect(await service.rotate(keyId)).toMatchObject({ keyId });
    expect(service.list()).toHaveLength(2);
  });

  it("persists to a file holding only hashes and reloads from it", async () => {
    const file = tempFile();
    const first = new SandboxKeyService({ file, saveDelayMs: 10 });
    const a = first.issue();
    const b = first.issue({ email: "bob@example.test", name: "Bob" });
    first.revoke(a.keyId);
    first.recordUse(b.token);
    await first.rotate(b.keyId);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the coalesced write lands on its own

    const onDisk = readFileSync(file, "utf8");
    expect(onDisk).not.toContain(a.token);
    expect(onDisk).not.toContain(b.token);
    expect(onDisk).not.toMatch(/tqs_/);
    expect(onDisk).toContain(hashToken(a.token));
    expect(readdirSync(join(file, "..")).filter((name) => name.endsWith(".tmp"))).toEqual([]);

    const second = new SandboxKeyService({ file });
    expect(second.list()).toEqual(first.list());
    expect(second.verify(a.token)).toMatchObject({ status: "inactive", keyId: a.keyId });
    expect(second.verify(b.token)).toMatchObject({ status: "active", keyId: b.keyId });
    expect(second.revoke(a.keyId)).toMatchObject({ alreadyRevoked: true });
    expect(second.get(a.keyId)?.revocations).toBe(1);
  });

  it("refuses to start from a corrupt state file", () => {
    const file = tempFile();
    const service = new SandboxKeyService({ file });
    service.issue();
    service.flush();
    const broken = readFileSync(file, "utf8").replace('"version":1', '"version":9');
    writeFileSync(file, broken);
    expect(() => new SandboxKeyService({ file })).toThrow(/not valid/);
  });
});
