import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulate } from "../../local/simulate.js";
import { ADMIN_TOKEN, startTestStack, type TestStack } from "../helpers/test-stack.js";

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
});
afterAll(() => t.close());

describe("tourniquet simulate", () => {
  it("issues a key, reports it signed with the development key, and prints the revoked leak's timeline", async () => {
    const lines: string[] = [];
    const leak = await simulate({
      url: t.stack.url,
      dataDir: t.stack.dataDir,
      adminToken: ADMIN_TOKEN,
      out: (line) => lines.push(line),
    });
    expect(leak.status).toBe("revoked");
    const output = lines.join("\n");
    expect(output).toMatch(/issued sandbox key key_/);
    expect(output).toMatch(/"label":"true_positive"/);
    expect(output).toMatch(new RegExp(`leak ${leak.id}: revoked in \\d+ ms`));
    for (const step of ["report", "verify", "revoke", "re-verify", "notify"])
      expect(output).toContain(` ${step}`);
    const keyId = /issued sandbox key (key_\w+)/.exec(output)?.[1] ?? "";
    expect(await t.sandboxKey(keyId)).toMatchObject({ status: "revoked", revocations: 1 });
  });

  it("reads the admin token the local stack wrote when none is given", async () => {
    await expect(simulate({ url: t.stack.url, dataDir: t.stack.dataDir, out: () => {} })).rejects.toThrow(
      /ENOENT|401/,
    );
  });
});
