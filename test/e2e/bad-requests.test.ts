import { generateKeyPairSync, sign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSandboxToken } from "../../local/sandbox/sandbox-token.js";
import { readJson, SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// Every malformed or unsigned partner report gets a 4xx with a clear JSON error and changes nothing.

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(() => t.close());

const token = generateSandboxToken();
const body = JSON.stringify([{ token, type: SANDBOX_TYPE, url: "https://x.example", source: "commit" }]);

async function post(rawBody: string | Buffer, headers: Record<string, string>) {
  return fetch(`${t.stack.url}/v1/github/secret-scanning`, { method: "POST", headers, body: rawBody });
}

const signed = (raw: string) => ({ "content-type": "application/json", ...t.signedHeaders(raw) });

const cases: [string, () => Promise<Response>, number, RegExp][] = [
  [
    "no signature headers",
    () => post(body, { "content-type": "application/json" }),
    400,
    /Github-Public-Key-Identifier/,
  ],
  [
    "no signature header",
    () => post(body, { ...signed(body), "Github-Public-Key-Signature": "" }),
    400,
    /Github-Public-Key-Signature/,
  ],
  [
    "signature not base64",
    () => post(body, { ...signed(body), "Github-Public-Key-Signature": "not base64!!" }),
    400,
    /malformed/,
  ],
  [
    "key identifier with odd characters",
    () => post(body, { ...signed(body), "Github-Public-Key-Identifier": "../../etc/passwd" }),
    400,
    /malformed/,
  ],
  [
    "signature over another body",
    () => post(body, { ...signed(`${body} `), "content-type": "application/json" }),
    401,
    /does not verify/,
  ],
  [
    "signature by another key",
    () => {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const forged = sign("sha256", Buffer.from(body), { key: privateKey, dsaEncoding: "der" }).toString(
        "base64",
      );
      return post(body, { ...signed(body), "Github-Public-Key-Signature": forged });
    },
    401,
    /does not verify/,
  ],
  [
    "unknown key identifier",
    () => post(body, { ...signed(body), "Github-Public-Key-Identifier": "f".repeat(64) }),
    401,
    /unknown public key/,
  ],
  ["body not JSON", () => post("[{not json", signed("[{not json")), 400, /not valid JSON/],
  ["body an object", () => post('{"token":"x"}', signed('{"token":"x"}')), 400, /JSON array/],
  [
    "array of non-objects",
    () => post('["tok", 1]', signed('["tok", 1]')),
    400,
    /JSON array of match objects/,
  ],
  [
    "not JSON content type",
    () => post(body, { ...signed(body), "content-type": "text/plain" }),
    415,
    /application\/json/,
  ],
  [
    "body one byte over the documented limit (4 MiB by default)",
    () => {
      const report = (url: string) => JSON.stringify([{ token, type: SANDBOX_TYPE, url, source: "commit" }]);
      const big = report("x".repeat(4 * 1024 * 1024 + 1 - report("").length));
      return post(big, signed(big));
    },
    413,
    /body is 4194305 bytes; the limit is 4194304/,
  ],
  [
    "body over API Gateway's limit",
    () => {
      const huge = "x".repeat(11 * 1024 * 1024);
      return post(huge, signed(huge));
    },
    413,
    /10 MB/,
  ],
];

describe("bad partner reports", () => {
  it.each(cases)("%s → clear 4xx, nothing stored", async (_name, send, status, message) => {
    const response = await send();
    expect(response.status).toBe(status);
    const error = await readJson(response);
    expect(error.error).toEqual(expect.any(String));
    expect(error.message).toMatch(message);
    const leaks = await readJson(await t.admin("/v1/admin/leaks"));
    expect(leaks.items).toEqual([]);
    expect(t.sentMessages).toEqual([]);
  });

  it("accepts a charset on the content type and any header case", async () => {
    const headers = Object.fromEntries(
      Object.entries(t.signedHeaders(body)).map(([k, v]) => [k.toUpperCase(), v]),
    );
    const response = await post(body, { ...headers, "Content-Type": "application/json; charset=utf-8" });
    expect(response.status).toBe(200);
  });

  it("logged nothing that contains the token", () => {
    expect(t.logLines.length).toBeGreaterThan(0);
    for (const line of t.logLines) expect(line).not.toContain(token);
  });
});
