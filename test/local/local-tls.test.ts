import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadLocalTls } from "../../local/local-tls.js";

// The local fake Azure's certificate: made on first start into the data dir, kept across starts.

const dir = mkdtempSync(join(tmpdir(), "tq-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadLocalTls", () => {
  it("makes a certificate for localhost and 127.0.0.1 with a private key only its owner reads", async () => {
    const tls = await loadLocalTls(dir);
    const cert = new X509Certificate(tls.cert);
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(Date.parse(cert.validTo)).toBeGreaterThan(Date.now() + 365 * 86_400_000);
    expect(cert.checkPrivateKey(createPrivateKey(tls.key))).toBe(true);
    expect(statSync(join(dir, "sandbox-azure-key.pem")).mode & 0o077).toBe(0);
  });

  it("keeps the certificate across starts, and replaces one that is unreadable", async () => {
    const first = await loadLocalTls(dir);
    expect((await loadLocalTls(dir)).cert).toBe(first.cert);
    writeFileSync(join(dir, "sandbox-azure-cert.pem"), "not a certificate");
    const replaced = await loadLocalTls(dir);
    expect(replaced.cert).not.toBe(first.cert);
    expect(readFileSync(join(dir, "sandbox-azure-cert.pem"), "utf8")).toBe(replaced.cert);
  });
});
