import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fingerprintToken } from "../lib/intake/fingerprint.js";
import { type LeakStatus, SETTLED_STATUSES } from "../lib/store/leak.js";
import { loadDevSigningKey, signPartnerReport } from "./dev-signing-key.js";
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

  const body = JSON.stringify(
    [{ token: key.token, type }, ...(key.companions ?? [])].map((match) => ({
      ...match,
      url: "https://github.com/example/demo/blob/main/.env",
      source: "content",
    })),
  );
  const signingKey = loadDevSigningKey(join(dataDir, "dev-github-signing-key.pem"));
  const feedback = await request<{ token_hash: string; label: string }[]>(
    `${options.url}/v1/github/secret-scanning`,
    {
      method: "POST",
      headers: { "content-type": "application/json", ...signPartnerReport(signingKey, body) },
      body,
    },
  );
  // No label when verification outlasts the intake's time box (a first Azure call loads its SDKs): the
  // worker finishes it, so the leak is followed by the token's fingerprint, not by the feedback.
  out(
    `partner report accepted; feedback: ${feedback.length ? JSON.stringify(feedback) : "none yet (the worker verifies)"}`,
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
      return leak;
    }
    if (Date.now() > deadline)
      throw new Error(`leak did not settle in time (last status: ${leak?.status ?? "none"})`);
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
