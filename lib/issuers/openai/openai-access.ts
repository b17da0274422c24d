// The OpenAI port: what the OpenAI issuer needs of OpenAI's API. `listModels` is called with the leaked
// key itself (does it authenticate?); everything else with the organisation's admin key (which project
// holds the key, whose it is, how it was used, and deleting it). The adapter (openai-sdk-access.ts)
// speaks through OpenAI's SDK; the issuer (openai-issuer.ts) holds the logic and is table-tested over an
// in-memory adapter.
//
// Adapters throw IssuerError: `transient` for 429 rate limits (with Retry-After), 5xx, timeouts and
// network errors; permanent for the rest, naming the call and what to fix. Messages are built from the
// HTTP status and OpenAI's error `code` only, never from OpenAI's message text (a 401's message quotes
// part of the key) — so neither the leaked key nor the admin key can reach a message.

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** GET /models with the leaked key: whether OpenAI accepted it, and what the answer's headers name. */
export type ModelsAnswer =
  | {
      accepted: true;
      /** The `openai-organization` response header: the organisation the key belongs to. */
      organization?: string | undefined;
      /** The `openai-project` response header, when OpenAI sends it. */
      project?: string | undefined;
      /**
       * Why the key was accepted without a 200: `insufficient_quota` (429: the key works, its
       * organisation is out of credit) or `missing_scope` (a restricted key without models.read).
       */
      note?: "insufficient_quota" | "missing_scope" | undefined;
    }
  | {
      accepted: false;
      /** OpenAI's error code (`invalid_api_key`). */
      code: string;
    };

export interface Page<T> {
  data: T[];
  hasMore: boolean;
  /** The cursor for the next page (`after`). */
  lastId?: string | undefined;
}

export interface OpenaiProject {
  id: string;
  name?: string | undefined;
  status?: string | undefined;
}

export type KeyOwner =
  | { type: "user"; id?: string | undefined; email?: string | undefined; name?: string | undefined }
  | { type: "service_account"; id?: string | undefined; name?: string | undefined };

/** A project API key as the admin API lists it: never its value, only OpenAI's redaction of it. */
export interface ProjectApiKey {
  id: string;
  /** e.g. `sk-abc...def`. */
  redactedValue: string;
  name?: string | undefined;
  /** Unix seconds. */
  createdAt?: number | undefined;
  /** Unix seconds; null when never used. */
  lastUsedAt?: number | null | undefined;
  owner?: KeyOwner | undefined;
}

/** One bucket of GET /organization/usage/completions, its results summed. */
export interface UsageBucket {
  /** Unix seconds. */
  startTime: number;
  endTime: number;
  inputTokens: number;
  outputTokens: number;
  requests: number;
}

export interface UsageQuery {
  apiKeyId: string;
  projectId: string;
  /** Unix seconds, inclusive. */
  startTime: number;
  /** Unix seconds, exclusive. */
  endTime: number;
}

export interface OpenaiAccess {
  /** GET /models with the leaked key. An answer saying whether it authenticated; IssuerError otherwise. */
  listModels(key: string, options?: CallOptions): Promise<ModelsAnswer>;
  /** GET /organization/projects, one page (active projects). */
  listProjects(after: string | undefined, options?: CallOptions): Promise<Page<OpenaiProject>>;
  /** GET /organization/projects/{id}/api_keys (owner_project_access=any), one page. */
  listProjectApiKeys(
    projectId: string,
    after: string | undefined,
    options?: CallOptions,
  ): Promise<Page<ProjectApiKey>>;
  /** GET /organization/projects/{id}/api_keys/{key}. Undefined when the key is gone (404). */
  retrieveProjectApiKey(
    projectId: string,
    apiKeyId: string,
    options?: CallOptions,
  ): Promise<ProjectApiKey | undefined>;
  /** DELETE /organization/projects/{id}/api_keys/{key}. "absent" when it was already gone (404). */
  deleteProjectApiKey(
    projectId: string,
    apiKeyId: string,
    options?: CallOptions,
  ): Promise<"deleted" | "absent">;
  /** GET /organization/usage/completions for one key, hourly buckets over the window, every page. */
  completionsUsage(query: UsageQuery, options?: CallOptions): Promise<UsageBucket[]>;
}
