import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generate } from "selfsigned";

// The local fake Azure's certificate: MSAL refuses a plain-http authority and Azure's pipeline refuses to
// send a bearer token over http, so the fake speaks HTTPS. node:crypto makes keys but not X.509
// certificates, hence `selfsigned`. Made once into the data dir and trusted only by the Azure adapter
// (its `trustedCaPem`), never by the process as a whole.

export interface LocalTls {
  key: string;
  cert: string;
}

const CERT_FILE = "sandbox-azure-cert.pem";
const KEY_FILE = "sandbox-azure-key.pem";

export async function loadLocalTls(dataDir: string): Promise<LocalTls> {
  const certPath = join(dataDir, CERT_FILE);
  const keyPath = join(dataDir, KEY_FILE);
  if (!existsSync(certPath) || !existsSync(keyPath) || expired(readFileSync(certPath, "utf8"))) {
    const notBeforeDate = new Date(Date.now() - 60_000);
    const pems = await generate([{ name: "commonName", value: "localhost" }], {
      keyType: "ec",
      curve: "P-256",
      algorithm: "sha256",
      notBeforeDate,
      notAfterDate: new Date(notBeforeDate.getTime() + 10 * 365 * 86_400_000),
      extensions: [
        { name: "basicConstraints", cA: true, critical: true },
        { name: "keyUsage", digitalSignature: true, keyCertSign: true, critical: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: [
            { type: 2, value: "localhost" },
            { type: 7, ip: "127.0.0.1" },
            { type: 7, ip: "::1" },
          ],
        },
      ],
    });
    writeFileSync(keyPath, pems.private, { mode: 0o600 });
    writeFileSync(certPath, pems.cert, { mode: 0o644 });
  }
  return { key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8") };
}

function expired(pem: string): boolean {
  try {
    return Date.parse(new X509Certificate(pem).validTo) < Date.now() + 86_400_000;
  } catch {
    return true;
  }
}
