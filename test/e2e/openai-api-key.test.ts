import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import type { SandboxOpenai } from "../../local/sandbox/sandbox-openai.js";
import { readJson, startTestStack, type TestStack } from "../helpers/test-stack.js";

// A leaked OpenAI API key, end to end on the local stack: the OpenAI issuer (OpenAI's SDK against the
// stack's fake OpenAI at /sandbox/openai/v1) checks the key with GET /models, finds it by its redaction
// among the organisation's projects' keys with the admin key, deletes it once however often it is
// reported, re-verifies it dead, and tells its owner. Keys sharing a redaction are left to an admin.
// Neither the leaked key nor the admin key is kept or said anywhere.

const FILE = "https://github.com/acme/app/blob/1a2b3c/.env";
const OWNER = "ml-team@acme.example";

let t: TestStack;
let openai: SandboxOpenai;

beforeAll(async () => {
  t = await startTestStack({ queueConcurrency: 4 });
  openai = t.stack.openai;
});
afterAll(async () => {
  await t?.close();
});
beforeEach(() => {
  openai.recover();
});

const report = (token: string, url = FILE) => [{ token, type: "openai_api_key", url, source: "commit" }];

function expectNowhere(written: string, secret: string) {
  expect(written).not.toContain(secret);
  expect(written).not.toContain(secret.slice(12, 40));
}

describe("a leaked OpenAI API key", () => {
  it("reported ten times at once is deleted once, re-verified dead, and its owner told", async () => {
    const key = openai.addKey({ ownerEmail: OWNER, name: "notebook" });
    openai.addUsage(key.id, {
      at: Math.floor(Date.now() / 1000) - 1800,
      inputTokens: 500,
      outputTokens: 250,
      requests: 5,
    });

    const answers = await Promise.all(Array.from({ length: 10 }, () => t.report(report(key.value))));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    await t.stack.queue.drain();

    expect(openai.callsOf("deleteProjectApiKey")).toHaveLength(1);
    expect(openai.key(key.id)?.deleted).toBe(true);
    const leak = await t.leakByFingerprint(fingerprintToken(key.value));
    expect(leak).toMatchObject({
      status: "revoked",
      key_id: `${key.projectId}/${key.id}`,
      owner: { email: OWNER },
    });
    expect(leak?.timeline.find((e) => e.step === "re-verify")?.detail).toContain("inactive");
    expect(leak?.deliveries.map((d) => d.recipient)).toContain(`owner ${OWNER}`);
    const detail = await readJson(await t.admin(`/v1/admin/leaks/${leak?.id}`));
    expect(detail.evidence).toMatchObject({
      organization: openai.organization,
      match: "unique",
      key_name: "notebook",
      usage_24h: { requests: 5, input_tokens: 500, output_tokens: 250 },
    });
    // The last call with the leaked key was the re-verification, refused.
    expect(openai.callsOf("listModels").at(-1)?.status).toBe(401);

    const written = await t.everythingWritten([leak?.id ?? ""]);
    expectNowhere(written, key.value);
    expectNowhere(written, openai.adminKey);
    expect(written).not.toContain(key.redactedValue);
  });

  it("fails the revoke step naming every key that shares the redaction, deleting none", async () => {
    const key = openai.addKey({ ownerEmail: OWNER });
    const twin = openai.addKey({ sameRedactionAs: key.id, projectId: openai.addProject("Other").id });
    await t.report(report(key.value, "https://gist.example/twin"));
    await t.stack.queue.drain();

    const leak = await t.leakByFingerprint(fingerprintToken(key.value));
    expect(leak).toMatchObject({ status: "failed", failure: { step: "revoke" } });
    expect(leak?.failure?.reason).toContain(`${key.projectId}/${key.id}`);
    expect(leak?.failure?.reason).toContain(`${twin.projectId}/${twin.id}`);
    expect(
      openai
        .callsOf("deleteProjectApiKey")
        .filter((c) => c.path.includes(key.id) || c.path.includes(twin.id)),
    ).toEqual([]);
    expect(openai.key(key.id)?.deleted).toBe(false);
    expect(openai.key(twin.id)?.deleted).toBe(false);

    const written = await t.everythingWritten([leak?.id ?? ""]);
    expectNowhere(written, key.value);
    expectNowhere(written, twin.value);
    expectNowhere(written, openai.adminKey);
  });

  it("records a dead key as inactive and asks the admin API nothing", async () => {
    const key = openai.addKey();
    key.deleted = true;
    const from = openai.calls.length;
    await t.report(report(key.value, "https://gist.example/dead"));
    await t.stack.queue.drain();
    expect((await t.leakByFingerprint(fingerprintToken(key.value)))?.status).toBe("inactive");
    expect(openai.calls.slice(from).map((c) => c.operation)).toEqual(
      openai.calls.slice(from).map(() => "listModels"),
    );
    expect(openai.calls.length).toBeGreaterThan(from);
  });

  it("refuses plainly to delete a service account's key", async () => {
    const key = openai.addKey({ serviceAccount: true });
    await t.report(report(key.value, "https://gist.example/svc"));
    await t.stack.queue.drain();
    const leak = await t.leakByFingerprint(fingerprintToken(key.value));
    expect(leak).toMatchObject({ status: "failed", failure: { step: "revoke" } });
    expect(leak?.failure?.reason).toContain("delete the service account");
    expect(openai.key(key.id)?.deleted).toBe(false);
    expectNowhere(await t.everythingWritten([leak?.id ?? ""]), key.value);
  });
});
