import { IssuerError } from "../../errors.js";
import { describeError } from "../../log.js";
import { mapWithConcurrency } from "../../util/concurrency.js";
import { KeyedMutex } from "../../util/keyed-mutex.js";
import type { RetryPolicy } from "../../util/retry.js";
import type {
  CallOptions,
  Issuer,
  KeyDetail,
  KeyRequest,
  Owner,
  Revocation,
  UsageReport,
  Verification,
} from "../issuer.js";
import { issuerCall } from "../issuer-call.js";
import type { OpenaiAccess, ProjectApiKey } from "./openai-access.js";
import { matchesRedaction } from "./openai-redaction.js";
import { describeKeyUsage, type KeyUsageSummary, summarizeKeyUsage } from "./openai-usage.js";

// The OpenAI issuer. Verify: GET /models with the leaked key says whether it is live. A live key is then
// looked for, with the organisation's admin key, among its projects' API keys: OpenAI lists keys only by
// their redaction (`sk-abc...def`), so the leaked key is matched on the redaction's prefix and suffix.
// One match names the key (`<project_id>/<api_key_id>`), its owner, its last use and its last day's
// usage. Revoke: DELETE the project API key. When several keys share the redaction none is deleted (an
// admin decides), and a service account's key is never deleted this way (OpenAI refuses: the service
// account goes instead). No rotation: OpenAI issues user keys only to the user, in the dashboard.

export interface OpenaiIssuerOptions {
  name: string;
  access: OpenaiAccess;
  retry?: RetryPolicy | undefined;
  now?: (() => number) | undefined;
  /** Projects searched at once. Default 4. */
  searchConcurrency?: number | undefined;
}

/** OpenAI rate-limits per organisation: a few quick tries honouring Retry-After, then the step's retry. */
const OPENAI_RETRY: RetryPolicy = { attempts: 4, baseMs: 250, maxDelayMs: 5_000 };
const HOUR_S = 3_600;
/** `proj_abc/key_abc`: a key found once. */
const KEY_REF = /^([A-Za-z0-9_-]{1,128})\/([A-Za-z0-9_-]{1,128})$/;
/** A key the search could not name (none or several matched, or the admin key failed): found at revoke. */
const UNRESOLVED = "unresolved:";
/** OpenAI secret keys: `sk-`, `sk-proj-`, `sk-svcacct-`, `sk-admin-`… */
const OPENAI_KEY = /^sk-[A-Za-z0-9_-]{16,}$/;
/** Where an admin deletes a key by hand. */
const KEYS_PAGE = "https://platform.openai.com/api-keys";

interface Match {
  projectId: string;
  projectName?: string | undefined;
  key: ProjectApiKey;
}

export class OpenaiIssuer implements Issuer {
  readonly name: string;
  private readonly openai: OpenaiAccess;
  private readonly retry: RetryPolicy;
  private readonly now: () => number;
  private readonly searchConcurrency: number;
  private readonly keys = new KeyedMutex();

  constructor(options: OpenaiIssuerOptions) {
    this.name = options.name;
    this.openai = options.access;
    this.retry = options.retry ?? OPENAI_RETRY;
    this.now = options.now ?? Date.now;
    this.searchConcurrency = options.searchConcurrency ?? 4;
  }

  async verify(request: { token: string; type: string }, options?: CallOptions): Promise<Verification> {
    const key = request.token.trim();
    if (!OPENAI_KEY.test(key)) {
      return { status: "unknown", evidence: { reason: "not an OpenAI secret key (sk-…)" } };
    }
    const models = await this.call("GET /models", () => this.openai.listModels(key, options));
    if (!models.accepted) {
      return {
        status: "inactive",
        evidence: { reason: `OpenAI refuses the key (401 ${models.code})`, code: models.code },
      };
    }
    const base: Record<string, unknown> = {
      organization: models.organization,
      project_header: models.project,
      ...(models.note === "insufficient_quota"
        ? { note: "the organisation is out of quota (429 insufficient_quota): the key is live all the same" }
        : models.note === "missing_scope"
          ? { note: "a restricted key without models.read: it authenticated, so it is live" }
          : {}),
    };
    const orgLabel = models.organization ?? "unknown";
    let matches: Match[];
    try {
      matches = await this.search(key, options);
    } catch (error) {
      // The key is live whatever the admin key can see: the failure is evidence, revoke searches again.
      return {
        status: "active",
        keyId: `${UNRESOLVED}${orgLabel}`,
        evidence: { ...base, match: "search_failed", search_error: describeError(error) },
        details: [{ label: "OpenAI organization", value: orgLabel }],
      };
    }
    if (matches.length !== 1) {
      return {
        status: "active",
        keyId: `${UNRESOLVED}${orgLabel}`,
        evidence: {
          ...base,
          match: matches.length === 0 ? "none" : "ambiguous",
          ...(matches.length > 1 ? { candidates: matches.map(refOf) } : {}),
          reason:
            matches.length === 0
              ? "no project API key of the admin key's organisation has this key's redaction"
              : `${matches.length} project API keys share this key's redaction: none will be deleted without an admin`,
        },
        details: [{ label: "OpenAI organization", value: orgLabel }],
      };
    }
    const match = matches[0] as Match;
    const usage = await this.lastDayUsage(match, options);
    return {
      status: "active",
      keyId: refOf(match),
      owner: ownerOf(match.key),
      evidence: {
        ...base,
        match: "unique",
        project: { id: match.projectId, name: match.projectName },
        key_name: match.key.name,
        owner_type: match.key.owner?.type,
        created_at: isoOrNull(match.key.createdAt),
        last_used_at: isoOrNull(match.key.lastUsedAt),
        ...(usage.value ? { usage_24h: usage.value } : { usage_24h_error: usage.error }),
      },
      details: keyDetails(orgLabel, match, usage.value),
    };
  }

  /**
   * Deletes the project API key. A key the verification could not name is looked for again with the
   * token (the worker opens it for this call): one match is deleted, several are left to an admin.
   */
  async revoke(request: KeyRequest, options?: CallOptions): Promise<Revocation> {
    const ref = KEY_REF.exec(request.keyId);
    if (ref) return this.deleteKey(request.keyId, ref[1] as string, ref[2] as string, undefined, options);
    if (!request.keyId.startsWith(UNRESOLVED) || !request.token) {
      throw new IssuerError(`issuer "${this.name}": ${request.keyId} is not an OpenAI project API key id`, {
        transient: false,
      });
    }
    const token = request.token.trim();
    const matches = await this.search(token, options);
    if (matches.length > 1) {
      throw new IssuerError(
        `issuer "${this.name}": ${matches.length} project API keys share the leaked key's redaction (${matches.map(refOf).join(", ")}); none was deleted: an admin should find the leaked one (by name, owner, last use) and delete it at ${KEYS_PAGE}, then retry or dismiss this leak`,
        { transient: false },
      );
    }
    const match = matches[0];
    if (!match) {
      const models = await this.call("GET /models", () => this.openai.listModels(token, options));
      if (!models.accepted) return { keyId: request.keyId, alreadyRevoked: true };
      throw new IssuerError(
        `issuer "${this.name}": the key is live but no project API key of the admin key's organisation has its redaction (a key of another organisation${models.organization ? ` than ${models.organization}` : ""}, a legacy user key, or an admin key?): delete it by hand at ${KEYS_PAGE} or in the admin key list, then retry or dismiss this leak`,
        { transient: false },
      );
    }
    return this.deleteKey(request.keyId, match.projectId, match.key.id, match.key, options);
  }

  /** Completions usage of a named key since a time (the sweep asks after a revocation). */
  async usageSince(request: { keyId: string; since: string }, options?: CallOptions): Promise<UsageReport> {
    const ref = KEY_REF.exec(request.keyId);
    if (!ref) {
      throw new IssuerError(`issuer "${this.name}": ${request.keyId} names no project API key`, {
        transient: false,
      });
    }
    const endTime = Math.floor(this.now() / 1000);
    const startTime = Math.floor(Date.parse(request.since) / 1000);
    const buckets = await this.call("GET /organization/usage/completions", () =>
      this.openai.completionsUsage(
        { apiKeyId: ref[2] as string, projectId: ref[1] as string, startTime, endTime },
        options,
      ),
    );
    const summary = summarizeKeyUsage(buckets, { startTime, endTime });
    return {
      since: summary.since,
      until: summary.until,
      figures: {
        requests: summary.requests,
        input_tokens: summary.input_tokens,
        output_tokens: summary.output_tokens,
        hours_with_use: summary.hours_with_use,
      },
    };
  }

  private async deleteKey(
    keyId: string,
    projectId: string,
    apiKeyId: string,
    known: ProjectApiKey | undefined,
    options?: CallOptions,
  ): Promise<Revocation> {
    return this.keys.run(`${projectId}/${apiKeyId}`, async () => {
      const key =
        known ??
        (await this.call(`GET project ${projectId} key ${apiKeyId}`, () =>
          this.openai.retrieveProjectApiKey(projectId, apiKeyId, options),
        ));
      if (!key) return { keyId, alreadyRevoked: true };
      if (key.owner?.type === "service_account") {
        const account = key.owner.id
          ? `service account ${key.owner.id}${key.owner.name ? ` (${key.owner.name})` : ""}`
          : "a service account";
        throw new IssuerError(
          `issuer "${this.name}": key ${apiKeyId} of project ${projectId} belongs to ${account}; OpenAI's API does not delete a service account's key on its own: an admin should delete the service account (DELETE /organization/projects/${projectId}/service_accounts/${key.owner.id ?? "<id>"}, or in the project's settings) after moving its workloads to a new service account, then retry or dismiss this leak`,
          { transient: false },
        );
      }
      const deleted = await this.call(`DELETE project ${projectId} key ${apiKeyId}`, () =>
        this.openai.deleteProjectApiKey(projectId, apiKeyId, options),
      );
      if (deleted === "absent") return { keyId, alreadyRevoked: true };
      return {
        keyId,
        alreadyRevoked: false,
        revokedAt: new Date(this.now()).toISOString(),
        actions: [
          `deleted OpenAI API key ${apiKeyId}${key.name ? ` ("${key.name}")` : ""} of project ${projectId} (cannot be undone: its owner creates a new key in the dashboard)`,
        ],
      };
    });
  }

  /** Every active project's API keys whose redaction the key matches. */
  private async search(key: string, options?: CallOptions): Promise<Match[]> {
    const projects: { id: string; name?: string | undefined }[] = [];
    let after: string | undefined;
    do {
      const cursor = after;
      const page = await this.call("GET /organization/projects", () =>
        this.openai.listProjects(cursor, options),
      );
      projects.push(...page.data);
      after = page.hasMore ? nextCursor(page, cursor) : undefined;
    } while (after);
    const perProject = await mapWithConcurrency(projects, this.searchConcurrency, async (project) => {
      const found: Match[] = [];
      let keyAfter: string | undefined;
      do {
        const cursor = keyAfter;
        const page = await this.call(`GET /organization/projects/${project.id}/api_keys`, () =>
          this.openai.listProjectApiKeys(project.id, cursor, options),
        );
        for (const k of page.data) {
          if (matchesRedaction(key, k.redactedValue))
            found.push({ projectId: project.id, projectName: project.name, key: k });
        }
        keyAfter = page.hasMore ? nextCursor(page, cursor) : undefined;
      } while (keyAfter);
      return found;
    });
    return perProject.flat();
  }

  /** Evidence only: a failure is recorded, never a reason to leave a live key alone. */
  private async lastDayUsage(
    match: Match,
    options?: CallOptions,
  ): Promise<{ value?: KeyUsageSummary | undefined; error?: string | undefined }> {
    const endTime = Math.floor(this.now() / 1000);
    const startTime = Math.floor((endTime - 24 * HOUR_S) / HOUR_S) * HOUR_S;
    try {
      const buckets = await this.call("GET /organization/usage/completions", () =>
        this.openai.completionsUsage(
          { apiKeyId: match.key.id, projectId: match.projectId, startTime, endTime },
          options,
        ),
      );
      return { value: summarizeKeyUsage(buckets, { startTime, endTime }) };
    } catch (error) {
      return { error: describeError(error) };
    }
  }

  private call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    return issuerCall(this.name, op, fn, this.retry);
  }
}

/** The next page's cursor; a page claiming more without a new cursor ends the listing (no endless loop). */
function nextCursor(page: { lastId?: string | undefined; data: { id: string }[] }, current?: string) {
  const next = page.lastId ?? page.data.at(-1)?.id;
  return next && next !== current ? next : undefined;
}

const refOf = (m: Match) => `${m.projectId}/${m.key.id}`;

const isoOrNull = (unixSeconds: number | null | undefined) =>
  typeof unixSeconds === "number" ? new Date(unixSeconds * 1000).toISOString() : null;

function ownerOf(key: ProjectApiKey): Owner | undefined {
  const o = key.owner;
  if (!o) return undefined;
  if (o.type === "user") return { id: o.id, email: o.email, name: o.name };
  return { id: o.id, name: o.name ? `service account ${o.name}` : "a service account" };
}

function keyDetails(org: string, match: Match, usage: KeyUsageSummary | undefined): KeyDetail[] {
  const k = match.key;
  return [
    { label: "OpenAI organization", value: org },
    {
      label: "Project",
      value: match.projectName ? `${match.projectName} (${match.projectId})` : match.projectId,
    },
    { label: "Key", value: k.name ? `${k.name} (${k.id})` : k.id },
    { label: "Last used", value: isoOrNull(k.lastUsedAt) ?? "never" },
    { label: "Use in the last 24 hours", value: usage ? describeKeyUsage(usage) : "could not be read" },
  ];
}
