import { createPublicKey, randomUUID, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { post } from "../lib/http/post.js";
import { fingerprintToken } from "../lib/intake/fingerprint.js";
import {
  REQUEST_ID_HEADER,
  SIGNATURE_HEADER,
  signIssuerRequest,
  TIMESTAMP_HEADER,
} from "../lib/issuers/http-issuer-signature.js";
import { toAttributes } from "../lib/store/dynamo-items.js";
import { mapWithConcurrency } from "../lib/util/concurrency.js";
import { type DevSigningKey, signPartnerReport } from "../local/dev-signing-key.js";
import { localDynamoClient } from "../local/embedded-dynamodb.js";
import { LOCAL_TABLE_NAME, type LocalStack } from "../local/local-stack.js";
import { median, quantile } from "./stats.js";

// The floor of each path bench/run.ts measures: the least work any correct implementation must do, done
// with nothing around it, on the same engine and sandbox issuer, in the same run. The floor operations:
//   ECDSA verify  node:crypto verify (P-256, SHA-256, DER) of the report body with the dev key;
//   SHA-256       one fingerprint of the token;
//   write         one conditional PutItem (attribute_not_exists / version =) of a ~1 KB item to the
//                 stack's dynalite, through a DynamoDB client configured as the stack's;
//   issuer call   one HMAC-signed POST to the sandbox issuer (/sandbox/verify or /revoke) through the
//                 project's keep-alive transport (lib/http/post.ts), answer read and parsed.
// Time-to-revoke floor, timed as one chain per report: ECDSA verify + SHA-256 + issuer verify (learns
// the key id; a key not known to be live is never revoked) + write (the leak recorded) + issuer revoke
// + issuer verify (proof the key is dead) + write (the leak recorded revoked). No lease, queue, timeline,
// notification or index: those are what the real path adds, and what the ratio measures.
// 1,000-match batch floor: one ECDSA verify of the batch body, then per token SHA-256 + issuer verify +
// write, at the stack's intake.concurrency, timed as a whole.

export interface FloorRound {
  ecdsaVerifyMs: number;
  sha256Ms: number;
  writeMs: number;
  issuerCallMs: number;
  timeToRevoke: { median: number; p99: number };
  batchMs: number;
}

/** What the floor needs from the bench's stack: its engine, sandbox issuer, signing key and config. */
export function floorProbe(stack: LocalStack, signingKey: DevSigningKey) {
  const client = localDynamoClient(stack.dbEndpoint);
  const secret = readFileSync(join(stack.dataDir, "sandbox-issuer.secret"), "utf8").trim();
  const publicKey = createPublicKey(signingKey.publicKeyPem);
  const padding = "x".repeat(1_024);
  const concurrency = stack.config.intake.concurrency;

  const ecdsaVerify = (body: string, signature: string) => {
    if (
      !verify(
        "sha256",
        Buffer.from(body),
        { key: publicKey, dsaEncoding: "der" },
        Buffer.from(signature, "base64"),
      )
    )
      throw new Error("floor: the report's signature does not verify");
  };

  async function issuerCall(op: "verify" | "revoke", payload: object): Promise<Record<string, unknown>> {
    const body = JSON.stringify(payload);
    const timestamp = Math.floor(Date.now() / 1000);
    const requestId = randomUUID();
    const answer = await post(new URL(`${stack.url}/sandbox/${op}`), {
      headers: {
        "content-type": "application/json",
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signIssuerRequest(secret, timestamp, requestId, body),
        [REQUEST_ID_HEADER]: requestId,
      },
      body,
      signal: AbortSignal.timeout(5_000),
    });
    if (answer.status !== 200) throw new Error(`floor: sandbox ${op} answered ${answer.status}`);
    return JSON.parse(answer.text) as Record<string, unknown>;
  }

  async function write(id: string, version: number): Promise<void> {
    await client.send(
      new PutItemCommand({
        TableName: LOCAL_TABLE_NAME,
        Item: toAttributes({ pk: `bench-floor#${id}`, sk: "leak", version, padding }),
        ...(version === 1
          ? { ConditionExpression: "attribute_not_exists(pk)" }
          : {
              ConditionExpression: "version = :expected",
              ExpressionAttributeValues: toAttributes({ ":expected": version - 1 }),
            }),
      }),
    );
  }

  const timed = async <T>(into: number[], fn: () => Promise<T> | T): Promise<T> => {
    const started = performance.now();
    const value = await fn();
    into.push(performance.now() - started);
    return value;
  };

  /** One round: `reports` revoke chains (one token each), then one batch of `batchSize` tokens. */
  async function round(reports: number, batchSize: number): Promise<FloorRound> {
    const parts = {
      ecdsa: [] as number[],
      sha: [] as number[],
      write: [] as number[],
      issuer: [] as number[],
    };
    const chains: number[] = [];
    for (let i = 0; i < reports; i++) {
      const { token } = stack.sandbox.issue();
      const body = JSON.stringify([{ token, type: "tourniquet_sandbox_token", url: "", source: "commit" }]);
      const signature = signPartnerReport(signingKey, body)["Github-Public-Key-Signature"] as string;
      const started = performance.now();
      await timed(parts.ecdsa, () => ecdsaVerify(body, signature));
      const id = await timed(parts.sha, () => fingerprintToken(token));
      const found = await timed(parts.issuer, () =>
        issuerCall("verify", { token, type: "tourniquet_sandbox_token" }),
      );
      await timed(parts.write, () => write(id, 1));
      await timed(parts.issuer, () =>
        issuerCall("revoke", { key_id: found.key_id, type: "tourniquet_sandbox_token", leak_id: id }),
      );
      const after = await timed(parts.issuer, () =>
        issuerCall("verify", { token, type: "tourniquet_sandbox_token" }),
      );
      await timed(parts.write, () => write(id, 2));
      chains.push(performance.now() - started);
      if (after.status === "active") throw new Error("floor: the sandbox key is live after its revocation");
    }

    const tokens = Array.from({ length: batchSize }, () => stack.sandbox.issue().token);
    const batchBody = JSON.stringify(
      tokens.map((token, i) => ({
        token,
        type: "tourniquet_sandbox_token",
        url: `https://floor/${i}`,
        source: "content",
      })),
    );
    const batchSignature = signPartnerReport(signingKey, batchBody)["Github-Public-Key-Signature"] as string;
    const batchStarted = performance.now();
    ecdsaVerify(batchBody, batchSignature);
    await mapWithConcurrency(tokens, concurrency, async (token) => {
      const id = fingerprintToken(token);
      await issuerCall("verify", { token, type: "tourniquet_sandbox_token" });
      await write(id, 1);
    });
    const batchMs = performance.now() - batchStarted;

    return {
      ecdsaVerifyMs: median(parts.ecdsa),
      sha256Ms: median(parts.sha),
      writeMs: median(parts.write),
      issuerCallMs: median(parts.issuer),
      timeToRevoke: { median: median(chains), p99: quantile(chains, 0.99) },
      batchMs,
    };
  }

  return { round, concurrency, close: () => client.destroy() };
}
