import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SealError } from "../../lib/errors.js";
import { pairReportedTokens } from "../../lib/intake/pair-reported-tokens.js";
import { groupReportedTokens, type ReportedToken } from "../../lib/intake/record-reported-tokens.js";
import { openPartTokens, reportPartId, sealPartTokens } from "../../lib/intake/report-part.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import { decodeRemediationMessage, encodeRemediationMessage } from "../../lib/queue/remediation-queue.js";

// A part's tokens sealed as a whole: they come back with their places and pairs, bound to the part's
// id, and nothing of them is readable in the sealed text or the queue message.

const sealer = new LocalKeySealer(randomBytes(32));
const id = reportPartId(randomBytes(32).toString("hex"), 4);
const url = "https://example.test/creds.env";
const tokens = groupReportedTokens([
  { token: "AKIA0000000000000001", type: "aws_access_key_id", url, source: "content" },
  {
    token: "secret_half_0000000000000000000000000001",
    type: "aws_secret_access_key",
    url,
    source: "content",
  },
  { token: "lone_token_0000000001", type: "some_type", url: "", source: "commit" },
  { token: "lone_token_0000000001", type: "some_type", url: "https://example.test/b", source: "content" },
]);

describe("sealed report parts", () => {
  it("open to the same tokens, places and pairs", async () => {
    const sealed = await sealPartTokens(sealer, id, tokens, pairReportedTokens(tokens));
    const opened = await openPartTokens(sealer, { id, sealed });
    expect(opened.tokens).toEqual(tokens);
    const [key, secret, lone] = opened.tokens;
    expect(opened.pairs.get(key?.fingerprint ?? "")).toBe(secret);
    expect(opened.pairs.get(secret?.fingerprint ?? "")).toBe(key);
    expect(opened.pairs.has(lone?.fingerprint ?? "")).toBe(false);
  });

  it("name a pair's other half that is not in the part (recorded by the intake) by fingerprint and type", async () => {
    const [key, secret] = tokens;
    const sealed = await sealPartTokens(sealer, id, [secret as ReportedToken], pairReportedTokens(tokens));
    const opened = await openPartTokens(sealer, { id, sealed });
    expect(opened.tokens).toEqual([secret]);
    expect(opened.pairs.get(secret?.fingerprint ?? "")).toMatchObject({
      fingerprint: key?.fingerprint,
      type: "aws_access_key_id",
      token: "",
    });
  });

  it("hold no token in the clear, and neither does the message naming the part", async () => {
    const sealed = await sealPartTokens(sealer, id, tokens, new Map());
    const message = encodeRemediationMessage({ partId: id });
    for (const t of tokens) {
      expect(sealed).not.toContain(t.token);
      expect(message).not.toContain(t.token);
    }
    expect(decodeRemediationMessage(message)).toEqual({ partId: id });
  });

  it("do not open under another part's id, or altered", async () => {
    const sealed = await sealPartTokens(sealer, id, tokens, new Map());
    const other = reportPartId(randomBytes(32).toString("hex"), 4);
    await expect(openPartTokens(sealer, { id: other, sealed })).rejects.toBeInstanceOf(SealError);
    const altered = `${sealed.slice(0, -6)}${sealed.slice(-6) === "AAAAAA" ? "BBBBBB" : "AAAAAA"}`;
    await expect(openPartTokens(sealer, { id, sealed: altered })).rejects.toBeInstanceOf(SealError);
  });

  it("are named by messages the queue accepts, and malformed part ids are refused", () => {
    expect(() => decodeRemediationMessage(JSON.stringify({ partId: "rp_x" }))).toThrow(/report part message/);
    expect(() => decodeRemediationMessage(JSON.stringify({ partId: 7 }))).toThrow(/report part message/);
  });
});
