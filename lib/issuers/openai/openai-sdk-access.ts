import OpenAI from "openai";
import { withDeadline } from "../../util/deadline.js";
import type {
  CallOptions,
  KeyOwner,
  ModelsAnswer,
  OpenaiAccess,
  OpenaiProject,
  Page,
  ProjectApiKey,
  UsageBucket,
  UsageQuery,
} from "./openai-access.js";
import { type FailureContext, httpStatusOf, openaiErrorCode, toIssuerError } from "./openai-errors.js";

// The OpenAI port over OpenAI's own SDK (`openai`): `models.list` with the leaked key, and the SDK's
// admin resources (`admin.organization.projects…`, `admin.organization.usage.completions`) with the
// admin key, which the SDK sends as the bearer of admin calls. No hand-written HTTP: the SDK's transport,
// paths, query encoding (`api_key_ids[]=…`) and error classes.
//
// The SDK never retries (maxRetries 0): the issuer retries transient failures itself (retryTransient,
// honouring Retry-After up to a bound), and the worker's queue retries after that; the SDK's own loop
// (2 retries, up to 60 s of backoff by default) would only burn a time-boxed verification and hide the
// attempts. Each call is bounded by `timeoutMs` (the SDK's `timeout` and our own abort signal, so the
// bound holds whatever the SDK does). The SDK reads nothing of the environment here: no OPENAI_* variable
// (key, organisation, project, base URL, log level) changes what Tourniquet calls or logs.

export const DEFAULT_OPENAI_TIMEOUT_MS = 5_000;
const PAGE_LIMIT = 100;
/** 24 hourly buckets fit one page; a few more pages at most. */
const MAX_USAGE_PAGES = 5;

export interface OpenaiSdkAccessOptions {
  apiUrl: string;
  adminKey: string;
  timeoutMs?: number | undefined;
  /** A test's fetch (e.g. one trusting a test CA); default: the global fetch. */
  fetch?: typeof fetch | undefined;
}

export class OpenaiSdkAccess implements OpenaiAccess {
  private readonly apiUrl: string;
  private readonly timeoutMs: number;
  private readonly admin: OpenAI;
  private readonly fetchImpl: typeof fetch | undefined;

  constructor(options: OpenaiSdkAccessOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS;
    this.fetchImpl = options.fetch;
    this.admin = this.client({ apiKey: null, adminAPIKey: options.adminKey });
  }

  async listModels(key: string, options?: CallOptions): Promise<ModelsAnswer> {
    // A client per leaked key: the key is its bearer for this one call and is then dropped.
    const client = this.client({ apiKey: key, adminAPIKey: null });
    return this.run(
      "GET /models with the reported key",
      "leaked key",
      options,
      async (signal): Promise<ModelsAnswer> => {
        const { response } = await client.models.list({ signal }).withResponse();
        return {
          accepted: true,
          organization: response.headers.get("openai-organization") ?? undefined,
          project: response.headers.get("openai-project") ?? undefined,
        };
      },
      {
        absorb: (status, code, error): ModelsAnswer | undefined => {
          // A restricted key without models.read authenticated: it is live.
          if ((status === 401 || status === 403) && mentionsMissingScope(error))
            return { accepted: true, note: "missing_scope" };
          if (status === 401 && (code === "invalid_api_key" || code === undefined))
            return { accepted: false, code: code ?? "unauthorized" };
          // Out of credit, not out of life: the key authenticated and works again once paid for.
          if (status === 429 && code === "insufficient_quota")
            return { accepted: true, note: "insufficient_quota" };
          return undefined;
        },
      },
    );
  }

  async listProjects(after: string | undefined, options?: CallOptions): Promise<Page<OpenaiProject>> {
    const page = await this.run("GET /organization/projects", "admin key", options, (signal) =>
      this.admin.admin.organization.projects.list(
        { limit: PAGE_LIMIT, ...(after ? { after } : {}) },
        { signal },
      ),
    );
    return {
      data: page.data.map((p) => ({ id: p.id, name: p.name ?? undefined, status: p.status ?? undefined })),
      hasMore: page.has_more === true,
      lastId: page.last_id || undefined,
    };
  }

  async listProjectApiKeys(
    projectId: string,
    after: string | undefined,
    options?: CallOptions,
  ): Promise<Page<ProjectApiKey>> {
    const page = await this.run(
      `GET /organization/projects/${projectId}/api_keys`,
      "admin key",
      options,
      (signal) =>
        this.admin.admin.organization.projects.apiKeys.list(
          projectId,
          { limit: PAGE_LIMIT, owner_project_access: "any", ...(after ? { after } : {}) },
          { signal },
        ),
      { explain: { 404: `no project ${projectId} in the organisation` } },
    );
    return {
      data: page.data.map(toApiKey),
      hasMore: page.has_more === true,
      lastId: page.last_id || undefined,
    };
  }

  async retrieveProjectApiKey(
    projectId: string,
    apiKeyId: string,
    options?: CallOptions,
  ): Promise<ProjectApiKey | undefined> {
    const key = await this.run<ProjectApiKey | null>(
      `GET /organization/projects/${projectId}/api_keys/${apiKeyId}`,
      "admin key",
      options,
      async (signal) =>
        toApiKey(
          await this.admin.admin.organization.projects.apiKeys.retrieve(
            apiKeyId,
            { project_id: projectId },
            { signal },
          ),
        ),
      // Gone: null, the absorbed answer (undefined means "not absorbed").
      { absorb: (status) => (status === 404 ? null : undefined) },
    );
    return key ?? undefined;
  }

  async deleteProjectApiKey(
    projectId: string,
    apiKeyId: string,
    options?: CallOptions,
  ): Promise<"deleted" | "absent"> {
    return this.run(
      `DELETE /organization/projects/${projectId}/api_keys/${apiKeyId}`,
      "admin key",
      options,
      async (signal) => {
        await this.admin.admin.organization.projects.apiKeys.delete(
          apiKeyId,
          { project_id: projectId },
          { signal },
        );
        return "deleted" as const;
      },
      {
        absorb: (status) => (status === 404 ? ("absent" as const) : undefined),
        explain: {
          400: "OpenAI refuses to delete this key (it does so for a service account's key: delete the service account instead)",
        },
      },
    );
  }

  async completionsUsage(query: UsageQuery, options?: CallOptions): Promise<UsageBucket[]> {
    const buckets: UsageBucket[] = [];
    let page: string | undefined;
    for (let n = 0; n < MAX_USAGE_PAGES; n++) {
      const answer = await this.run(
        `GET /organization/usage/completions for key ${query.apiKeyId}`,
        "admin key",
        options,
        (signal) =>
          this.admin.admin.organization.usage.completions(
            {
              start_time: query.startTime,
              end_time: query.endTime,
              bucket_width: "1h",
              api_key_ids: [query.apiKeyId],
              limit: 24,
              ...(page ? { page } : {}),
            },
            { signal },
          ),
      );
      for (const bucket of answer.data) {
        const sum = { inputTokens: 0, outputTokens: 0, requests: 0 };
        for (const result of bucket.results) {
          if (result.object !== "organization.usage.completions.result") continue;
          sum.inputTokens += numberOr0(result.input_tokens);
          sum.outputTokens += numberOr0(result.output_tokens);
          sum.requests += numberOr0(result.num_model_requests);
        }
        buckets.push({ startTime: bucket.start_time, endTime: bucket.end_time, ...sum });
      }
      page = answer.has_more && answer.next_page ? answer.next_page : undefined;
      if (!page) break;
    }
    return buckets;
  }

  private client(auth: { apiKey: string | null; adminAPIKey: string | null }): OpenAI {
    return new OpenAI({
      ...auth,
      baseURL: this.apiUrl,
      organization: null,
      project: null,
      webhookSecret: null,
      timeout: this.timeoutMs,
      maxRetries: 0,
      logLevel: "off",
      ...(this.fetchImpl ? { fetch: this.fetchImpl } : {}),
    });
  }

  /**
   * One SDK call under the timeout and the caller's signal. `absorb` gives an answer the port defines
   * for some HTTP answers (404: absent); any other failure becomes an IssuerError.
   */
  private async run<T>(
    call: string,
    credential: FailureContext["credential"],
    options: CallOptions | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    expected: {
      explain?: FailureContext["explain"];
      absorb?: (status: number, code: string | undefined, error: unknown) => T | undefined;
    } = {},
  ): Promise<T> {
    return withDeadline(fn, { timeoutMs: this.timeoutMs, signal: options?.signal }, (error, ending) => {
      const status = ending.aborted ? undefined : httpStatusOf(error);
      const absorbed =
        status === undefined ? undefined : expected.absorb?.(status, openaiErrorCode(error), error);
      if (absorbed !== undefined) return absorbed;
      throw toIssuerError(error, {
        call,
        credential,
        explain: expected.explain,
        timeoutMs: this.timeoutMs,
        timedOut: ending.timedOut,
        callerAborted: ending.callerAborted,
      });
    });
  }
}

/**
 * A restricted key without the models.read permission is refused with "You have insufficient permissions
 * for this operation. Missing scopes: …": the key authenticated. Read, never copied into a message.
 */
function mentionsMissingScope(error: unknown): boolean {
  const body = (error as { error?: { message?: unknown } } | undefined)?.error;
  const text = typeof body?.message === "string" ? body.message : "";
  return /missing scopes|insufficient permissions/i.test(text);
}

const numberOr0 = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : 0);

interface SdkApiKey {
  id: string;
  redacted_value: string;
  name?: string;
  created_at?: number;
  last_used_at?: number | null;
  owner?: {
    type?: "user" | "service_account";
    user?: { id?: string; email?: string; name?: string };
    service_account?: { id?: string; name?: string };
  };
}

function toApiKey(key: SdkApiKey): ProjectApiKey {
  const o = key.owner;
  let owner: KeyOwner | undefined;
  if (o?.type === "service_account" || (!o?.type && o?.service_account)) {
    owner = { type: "service_account", id: o.service_account?.id, name: o.service_account?.name };
  } else if (o?.user || o?.type === "user") {
    owner = { type: "user", id: o.user?.id, email: o.user?.email, name: o.user?.name };
  }
  return {
    id: key.id,
    redactedValue: key.redacted_value ?? "",
    name: key.name,
    createdAt: key.created_at,
    lastUsedAt: key.last_used_at,
    owner,
  };
}
