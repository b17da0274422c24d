import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Webhooks } from "@octokit/webhooks";
import { fingerprintToken } from "../lib/intake/fingerprint.js";
import { type LeakStatus, SETTLED_STATUSES } from "../lib/store/leak.js";
import { DEV_SIGNING_KEY_FILE, loadDevSigningKey, signedPartnerReport } from "./dev-signing-key.js";
import { evidenceLines } from "./simulate-evidence.js";
import { issueKey, SANDBOX_TOKEN_TYPE } from "./simulate-keys.js";

// `tourniquet simulate`: the whole path against a running local stack. Issues a live key (the sandbox
// issuer's, or a demo account's in the local fake Azure), reports it as GitHub would (signed with the
// local development key), then follows the leak to its end and prints its timeline and evidence.

export interface SimulateOptions {
  url: string;
  dataDir: string;
  adminToken?: string | undefined;
  /** The token type to leak (default tourniquet_sandbox_token; see SIMULATE_TYPES). */
  type?: string | undefined;
  /**
   * Through the GitHub App path instead of a partner report: an alert holding the key in the local fake
   * GitHub, its signed secret_scanning_alert webhook, and at the end the alert as GitHub then shows it.
   */
  app?: boolean | undefined;
  /** The local App's webhook secret (default: TOURNIQUET_GITHUB_WEBHOOK_SECRET, else the data dir's). */
  webhookSecret?: string | undefined;
  out?: (line: string) => void;
  timeoutMs?: number;
}

interface LeakDetail {
  id: string;
  status: string;
  preview: string;
  time_to_revoke_ms: number | null;
  notification: { status: string } | null;
  evidence?: Record<string, unknown> | null;
  key_details?: { label: string; value: string }[];
  paired_with?: { leak_id: string; token_type: string } | null;
  timeline: { at: string; step: string; outcome: string; actor: string; detail: string }[];
}

export async function simulate(options: SimulateOptions): Promise<LeakDetail> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dataDir = resolve(options.dataDir);
  const adminToken = options.adminToken ?? readFileSync(join(dataDir, "admin-token"), "utf8").trim();
  const type = options.type ?? SANDBOX_TOKEN_TYPE;
  const key = await issueKey(options.url, type, request);
  out(`issued ${key.description}`);

  const alert = options.app
    ? await reportAsAppAlert(options.url, webhookSecretOf(options, dataDir), key.token, type, out)
    : await reportAsPartner(
        options.url,
        dataDir,
        [{ token: key.token, type }, ...(key.companions ?? [])],
        out,
      );
  const fingerprint = fingerprintToken(key.token);

  const auth = { authorization: `Bearer ${adminToken}` };
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const page = await request<{ items: { id: string }[] }>(
      `${options.url}/v1/admin/leaks?fingerprint=${fingerprint}`,
      { headers: auth },
    );
    const id = page.items[0]?.id;
    const leak = id
      ? await request<LeakDetail>(`${options.url}/v1/admin/leaks/${id}`, { headers: auth })
      : undefined;
    const settled = leak && SETTLED_STATUSES.has(leak.status as LeakStatus);
    if (leak && settled && (leak.status !== "revoked" || leak.notification)) {
      out(
        `leak ${leak.id}: ${leak.status}${leak.time_to_revoke_ms !== null ? ` in ${leak.time_to_revoke_ms} ms` : ""}`,
      );
      for (const event of leak.timeline)
        out(`  ${event.at}  ${event.step.padEnd(9)} ${event.outcome.padEnd(8)} ${event.detail}`);
      for (const line of evidenceLines(leak.evidence, leak.key_details)) out(line);
      if (leak.paired_with) {
        const half = await request<LeakDetail>(`${options.url}/v1/admin/leaks/${leak.paired_with.leak_id}`, {
          headers: auth,
        });
        out(`its ${leak.paired_with.token_type} (${half.preview}): leak ${half.id}, ${half.status}`);
        out(`  ${half.timeline.at(-1)?.detail ?? ""}`);
      }
      if (leak.notification?.status === "sent") out(`messages: ${join(dataDir, "outbox")}/${leak.id}.*.json`);
      if (alert) await printAlert(options.url, alert, out);
      return leak;
    }
    if (Date.now() > deadline)
      throw new Error(`leak did not settle in time (last status: ${leak?.status ?? "none"})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A partner report of the matches, signed with the local development key as GitHub signs. */
async function reportAsPartner(
  url: string,
  dataDir: string,
  matches: { token: string; type: string }[],
  out: (line: string) => void,
): Promise<undefined> {
  const signingKey = loadDevSigningKey(join(dataDir, DEV_SIGNING_KEY_FILE));
  const report = signedPartnerReport(
    signingKey,
    matches.map((match) => ({
      ...match,
      url: "https://github.com/example/demo/blob/main/.env",
      source: "content",
    })),
  );
  const feedback = await request<{ token_hash: string; label: string }[]>(
    `${url}/v1/github/secret-scanning`,
    { method: "POST", ...report },
  );
  // No label when verification outlasts the intake's time box (a first Azure call loads its SDKs): the
  // worker finishes it, so the leak is followed by the token's fingerprint, not by the feedback.
  out(
    `partner report accepted; feedback: ${feedback.length ? JSON.stringify(feedback) : "none yet (the worker verifies)"}`,
  );
  return undefined;
}

interface SimulatedAlert {
  repository: string;
  number: number;
}

/**
 * The App path: an alert holding the token in the local fake GitHub (POST /sandbox/github/api/_alerts),
 * then its secret_scanning_alert webhook signed with the local App's webhook secret, as GitHub sends it.
 */
async function reportAsAppAlert(
  url: string,
  secret: string,
  token: string,
  type: string,
  out: (line: string) => void,
): Promise<SimulatedAlert> {
  const created = await request<{ number: number; repository: string; webhook_payload: unknown }>(
    `${url}/sandbox/github/api/_alerts`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ repository: "example/demo", secret: token, secret_type: type }),
    },
  );
  out(`alert ${created.repository}#${created.number} opened in the local fake GitHub`);
  const body = JSON.stringify(created.webhook_payload);
  const answer = await request<{ delivery: string; queued?: boolean }>(`${url}/v1/github/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "secret_scanning_alert",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": await new Webhooks({ secret }).sign(body),
    },
    body,
  });
  out(`webhook ${answer.delivery} accepted (202): the worker fetches the secret from GitHub`);
  return { repository: created.repository, number: created.number };
}

const webhookSecretOf = (options: SimulateOptions, dataDir: string) =>
  options.webhookSecret ||
  process.env.TOURNIQUET_GITHUB_WEBHOOK_SECRET ||
  readFileSync(join(dataDir, "github-webhook.secret"), "utf8").trim();

/** The alert as the fake GitHub shows it now (resolved by Tourniquet once the leak settled). */
async function printAlert(url: string, alert: SimulatedAlert, out: (line: string) => void): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const shown = await request<{
      state: string;
      resolution?: string | null;
      resolution_comment?: string | null;
    }>(`${url}/sandbox/github/api/_alerts/${alert.repository}/${alert.number}`, { method: "GET" });
    if (shown.state === "resolved" || Date.now() > deadline) {
      out(
        `alert ${alert.repository}#${alert.number} in GitHub: ${shown.state}${shown.resolution ? ` (${shown.resolution})` : ""}${shown.resolution_comment ? `: ${shown.resolution_comment}` : ""}`,
      );
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function request<T>(url: string, init: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok)
    throw new Error(`${init.method ?? "GET"} ${url}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}
