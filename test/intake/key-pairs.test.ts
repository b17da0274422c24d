import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.js";
import { ConfigError } from "../../lib/errors.js";
import { fingerprintToken } from "../../lib/intake/fingerprint.js";
import { pairReportedTokens } from "../../lib/intake/pair-reported-tokens.js";
import {
  groupReportedTokens,
  type RecordDeps,
  recordReportedTokens,
} from "../../lib/intake/record-reported-tokens.js";
import type { Issuer, Verification } from "../../lib/issuers/issuer.js";
import { IssuerRegistry } from "../../lib/issuers/issuer-registry.js";
import { silentLog } from "../../lib/log.js";
import { LocalKeySealer } from "../../lib/queue/local-key-sealer.js";
import type { RemediationMessage } from "../../lib/queue/remediation-queue.js";
import { leakIdFor } from "../../lib/store/leak.js";
import { createTestStore, sharedEngine, type TestStore } from "../helpers/dynamo.js";
import { newAccessKeyId, newSecretAccessKey } from "../helpers/in-memory-aws-iam.js";
import { rejection } from "../helpers/rejection.js";

// AWS reports a key as two matches: the access key id, which names the key, and its secret, which does
// not. The secret is recorded and linked to its key id when both arrive together, never acted on alone.

const KEY = "aws_access_key_id";
const SECRET = "aws_secret_access_key";
const T0 = Date.parse("2026-11-27T10:00:00Z");
const FILE = "https://github.com/o/r/blob/abc/.env";

type Match = { token: string; type: string; url: string; source: string };
const match = (token: string, type: string, url = FILE): Match => ({ token, type, url, source: "commit" });

describe("pairing the halves of a report", () => {
  const pairsOf = (matches: Match[]) => {
    const pairs = pairReportedTokens(groupReportedTokens(matches));
    return new Map([...pairs].map(([fingerprint, other]) => [fingerprint, other.token]));
  };

  it("links a secret to the one key id seen at the same place, both ways", () => {
    const [id, secret] = [newAccessKeyId(), newSecretAccessKey()];
    const [otherId, otherSecret] = [newAccessKeyId(), newSecretAccessKey()];
    const pairs = pairsOf([
      match(id, KEY),
      match(secret, SECRET),
      match(otherId, KEY, "https://github.com/o/r/blob/abc/other.env"),
      match(otherSecret, SECRET, "https://github.com/o/r/blob/abc/other.env"),
    ]);
    expect(pairs.get(fingerprintToken(secret))).toBe(id);
    expect(pairs.get(fingerprintToken(id))).toBe(secret);
    expect(pairs.get(fingerprintToken(otherSecret))).toBe(otherId);
  });

  it("links none where the place holds two key ids, or two secrets point at one key id", () => {
    const twoKeys = pairsOf([
      match(newAccessKeyId(), KEY),
      match(newAccessKeyId(), KEY),
      match(newSecretAccessKey(), SECRET),
    ]);
    expect(twoKeys.size).toBe(0);
    const twoSecrets = pairsOf([
      match(newAccessKeyId(), KEY),
      match(newSecretAccessKey(), SECRET),
      match(newSecretAccessKey(), SECRET),
    ]);
    expect(twoSecrets.size).toBe(0);
  });

  it("links the two halves of a report without urls only when it holds exactly one of each", () => {
    const [id, secret] = [newAccessKeyId(), newSecretAccessKey()];
    expect(pairsOf([match(id, KEY, ""), match(secret, SECRET, "")]).get(fingerprintToken(secret))).toBe(id);
    expect(
      pairsOf([match(id, KEY, ""), match(newAccessKeyId(), KEY, ""), match(secret, SECRET, "")]).size,
    ).toBe(0);
    // Different places: not a pair.
    expect(
      pairsOf([match(id, KEY, "https://x.example/a"), match(secret, SECRET, "https://x.example/b")]).size,
    ).toBe(0);
  });
});

describe("recording the halves of a pair (embedded DynamoDB)", () => {
  const engine = sharedEngine();
  let t: TestStore;
  let sent: RemediationMessage[];
  let verified: string[];

  const issuer: Issuer = {
    name: "aws",
    async verify(request): Promise<Verification> {
      verified.push(request.token);
      return { status: "active", keyId: `111122223333:bob:${request.token}` };
    },
    async revoke(request) {
      return { keyId: request.keyId, alreadyRevoked: false };
    },
  };

  beforeEach(async () => {
    t = await createTestStore(engine());
    sent = [];
    verified = [];
  });

  const deps = (): RecordDeps => ({
    config: parseConfig({}, {}),
    store: t.store,
    queue: {
      async send(messages) {
        sent.push(...(messages as RemediationMessage[]));
      },
    },
    sealer: new LocalKeySealer(Buffer.alloc(32, 7)),
    issuers: new IssuerRegistry(new Map([["aws", issuer]]), { [KEY]: { issuer: "aws" } }),
    log: silentLog,
    now: () => T0,
  });

  const report = (matches: Match[], at = T0) =>
    recordReportedTokens(deps(), groupReportedTokens(matches), {
      receivedAt: at,
      verifyDeadline: at + 5_000,
      reporter: "test",
      source: "partner_report",
    });

  it("verifies the key id, links the secret to it, and never sends the secret to an issuer or the queue", async () => {
    const [id, secret] = [newAccessKeyId(), newSecretAccessKey()];
    const recorded = await report([match(id, KEY), match(secret, SECRET)]);

    expect(verified).toEqual([id]);
    const keyLeak = await t.store.getLeak(leakIdFor(fingerprintToken(id)));
    const secretLeak = await t.store.getLeak(leakIdFor(fingerprintToken(secret)));
    expect(keyLeak).toMatchObject({
      status: "active",
      pairedWith: { leakId: secretLeak?.id, tokenType: SECRET },
    });
    expect(secretLeak).toMatchObject({
      status: "paired",
      issuer: null,
      pairedWith: { leakId: keyLeak?.id, tokenType: KEY },
    });
    expect(secretLeak?.sealedToken).toBeUndefined();
    expect(secretLeak?.timeline[0]?.detail).toContain(
      `acted on through its ${KEY} (leak ${keyLeak?.id}), never alone`,
    );
    expect(sent.map((m) => m.leakId)).toEqual([keyLeak?.id]);
    // GitHub hears the pair's answer for both halves.
    expect(recorded.map((r) => [r.type, r.label])).toEqual([
      [KEY, "true_positive"],
      [SECRET, "true_positive"],
    ]);
    const items = await t.client.send(new ScanCommand({ TableName: t.tableName }));
    expect(items.Items?.length).toBeGreaterThan(1);
    expect(JSON.stringify(items.Items)).not.toContain(secret);
  });

  it("records a secret reported alone and leaves it alone, then links it when the pair arrives together", async () => {
    const [id, secret] = [newAccessKeyId(), newSecretAccessKey()];
    const alone = await report([match(secret, SECRET)]);
    const secretId = leakIdFor(fingerprintToken(secret));
    expect(alone[0]?.label).toBeUndefined();
    expect(await t.store.getLeak(secretId)).toMatchObject({ status: "unroutable", issuer: null });
    expect((await t.store.getLeak(secretId))?.timeline[0]?.detail).toContain(
      `names no key by itself and no ${KEY} was reported with it: recorded and left alone`,
    );
    expect(verified).toEqual([]);
    expect(sent).toEqual([]);

    await report([match(id, KEY), match(secret, SECRET)], T0 + 60_000);
    const linked = await t.store.getLeak(secretId);
    expect(linked).toMatchObject({
      status: "paired",
      pairedWith: { leakId: leakIdFor(fingerprintToken(id)) },
    });
    expect(linked?.timeline.at(-1)).toMatchObject({ step: "pair", actor: "intake" });
    expect(verified).toEqual([id]);
  });

  it("links a key id already recorded when its secret arrives with it later", async () => {
    const [id, secret] = [newAccessKeyId(), newSecretAccessKey()];
    await report([match(id, KEY)]);
    await report([match(id, KEY), match(secret, SECRET)], T0 + 60_000);
    const keyLeak = await t.store.getLeak(leakIdFor(fingerprintToken(id)));
    expect(keyLeak?.pairedWith).toEqual({ leakId: leakIdFor(fingerprintToken(secret)), tokenType: SECRET });
    expect(keyLeak?.timeline.filter((e) => e.step === "pair")).toHaveLength(1);
    expect(verified).toEqual([id]); // the repeat costs no second verification
  });

  it("refuses a config that routes the secret half to an issuer", async () => {
    const error = await rejection(
      Promise.resolve().then(() =>
        parseConfig(
          {
            issuers: { aws: { kind: "aws_iam", accounts: { "111122223333": {} } } },
            token_types: { [SECRET]: { issuer: "aws" } },
          },
          {},
        ),
      ),
      ConfigError,
    );
    expect(error.message).toContain(`token_types.${SECRET}: is the secret half of a pair`);
    expect(error.message).toContain(`route "${KEY}" instead`);
  });
});
