import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type FakeApiKey, newKeyValue, OpenaiWorld, randomChars } from "./sandbox-openai-state.js";
import { closeServer, readTextOr413 } from "./sandbox-server.js";

// A loopback fake of OpenAI's API for the OpenAI issuer's tests and the local stack: GET /v1/models with
// a project key, and the admin API with the organisation's admin key (projects and their API keys,
// paginated with `after` / `has_more` / `last_id`, key deletion, hourly completions usage), in the shapes
// of OpenAI's OpenAPI spec (openai/openai-openapi, openapi.yaml) and its errors
// (`{"error":{"message","type","param","code"}}`; a refused key's message quotes it redacted, as
// OpenAI's does). Faults (any status, Retry-After, delays) are injected per operation. The call log
// keeps operations, paths and statuses, never a key. `POST /sandbox/openai/keys` mints a live key for
// `simulate`.

export type { FakeApiKey, FakeProject } from "./sandbox-openai-state.js";

export type OpenaiOperation =
  | "listModels"
  | "listProjects"
  | "listProjectApiKeys"
  | "retrieveProjectApiKey"
  | "deleteProjectApiKey"
  | "usageCompletions";

export interface OpenaiFault {
  status: number;
  code?: string | null | undefined;
  type?: string | undefined;
  message?: string | undefined;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number | undefined;
  /** Wait this long before answering (to trip client timeouts); alone, the call is only delayed. */
  delayMs?: number | undefined;
}

/** Common faults, in OpenAI's words. */
export const OPENAI_FAULTS = {
  rateLimited: {
    status: 429,
    code: "rate_limit_exceeded",
    type: "requests",
    message: "Rate limit reached for requests. Please try again in 1s.",
    retryAfter: 1,
  },
  serverError: {
    status: 500,
    code: null,
    type: "server_error",
    message: "The server had an error while processing your request. Sorry about that!",
  },
  overloaded: {
    status: 503,
    code: null,
    type: "server_error",
    message: "The engine is currently overloaded.",
  },
  forbidden: {
    status: 403,
    code: null,
    type: "invalid_request_error",
    message: "You have insufficient permissions for this operation. Missing scopes: api.management.write.",
  },
} as const satisfies Record<string, OpenaiFault>;

export interface OpenaiCall {
  operation: OpenaiOperation | "unknown";
  method: string;
  /** Path and query (ids only: keys never travel in a URL). */
  path: string;
  /** Which credential the request carried: never the credential itself. */
  auth: "admin" | "project_key" | "unknown" | "none";
  status: number;
}

export interface SandboxOpenaiOptions {
  /** The organisation's admin key; default: a new one. */
  adminKey?: string | undefined;
  organization?: string | undefined;
  /** Largest page the fake answers, whatever `limit` asks (tests of pagination). */
  pageSize?: number | undefined;
  now?: (() => number) | undefined;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const HOUR_S = 3_600;

export class SandboxOpenai {
  readonly calls: OpenaiCall[] = [];
  readonly world: OpenaiWorld;
  readonly adminKey: string;
  readonly organization: string;
  private readonly pageSize: number;
  private readonly now: () => number;
  private readonly faults = new Map<string, { fault: OpenaiFault; remaining: number }[]>();
  private server: Server | undefined;
  /** Base URL of the API (`…/v1`) once started on its own port. */
  url = "";

  constructor(options: SandboxOpenaiOptions = {}) {
    this.now = options.now ?? Date.now;
    this.world = new OpenaiWorld(this.now);
    this.adminKey = options.adminKey ?? newKeyValue("sk-admin-");
    this.organization = options.organization ?? "org-tourniquetlocal";
    this.pageSize = options.pageSize ?? 100;
  }

  /** On its own loopback port (tests); the local stack mounts `handle` under /sandbox/openai instead. */
  static async start(
    options: SandboxOpenaiOptions & { port?: number | undefined } = {},
  ): Promise<SandboxOpenai> {
    const openai = new SandboxOpenai(options);
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://fake").pathname.replace(/^\/sandbox\/openai(?=\/)/, "");
      void openai.handle(req, res, path);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", resolve);
    });
    openai.server = server;
    openai.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    return openai;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  // Seeding.

  addProject(name = "Default project") {
    return this.world.addProject(name);
  }

  /** A live key in `projectId` (a new project when absent): the world's record, with its value. */
  addKey(
    options: Omit<Parameters<OpenaiWorld["addKey"]>[0], "projectId"> & {
      projectId?: string | undefined;
    } = {},
  ) {
    const projectId = options.projectId ?? this.defaultProject().id;
    return this.world.addKey({ ...options, projectId });
  }

  addUsage(
    apiKeyId: string,
    use: { at: number; inputTokens?: number; outputTokens?: number; requests?: number },
  ) {
    this.world.addUsage({
      apiKeyId,
      at: use.at,
      inputTokens: use.inputTokens ?? 0,
      outputTokens: use.outputTokens ?? 0,
      requests: use.requests ?? 1,
    });
  }

  /** A key as it stands (deleted or not), for assertions. */
  key(apiKeyId: string): FakeApiKey | undefined {
    return this.world.keys.find((k) => k.id === apiKeyId);
  }

  // Faults.

  /** The next `times` calls of `operation` fail (or are delayed) as `fault` says. */
  fail(operation: OpenaiOperation, fault: OpenaiFault | { delayMs: number }, times = 1): void {
    const queue = this.faults.get(operation) ?? [];
    queue.push({ fault: { status: 0, ...fault }, remaining: times });
    this.faults.set(operation, queue);
  }

  delay(operation: OpenaiOperation, delayMs: number, times = 1): void {
    this.fail(operation, { delayMs }, times);
  }

  recover(): void {
    this.faults.clear();
  }

  callsOf(operation: OpenaiOperation): OpenaiCall[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  // Serving.

  /** One request; `path` is relative to the mount (`/v1/models`, `/keys`). */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const body = await readTextOr413(req, res);
    if (body === undefined) return;
    if (path === "/keys") {
      const answer = req.method === "POST" ? this.mint(body) : { status: 405, body: { error: "POST only" } };
      return send(res, answer);
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1]?.trim();
    const auth: OpenaiCall["auth"] = !bearer
      ? "none"
      : bearer === this.adminKey
        ? "admin"
        : this.world.liveKey(bearer)
          ? "project_key"
          : "unknown";
    const route = this.route(req.method ?? "GET", path);
    const call: OpenaiCall = {
      operation: route?.operation ?? "unknown",
      method: req.method ?? "GET",
      path: `${path}${url.search}`,
      auth,
      status: 0,
    };
    this.calls.push(call);
    let answer: Answer;
    const fault = route ? this.nextFault(route.operation) : undefined;
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (!route) {
      answer = error(404, `Invalid URL (${req.method} ${path})`, "invalid_request_error", null);
    } else if (fault && fault.status > 0) {
      answer = error(
        fault.status,
        fault.message ?? "error",
        fault.type ?? "invalid_request_error",
        fault.code ?? null,
      );
      if (fault.retryAfter !== undefined) answer.headers = { "retry-after": String(fault.retryAfter) };
    } else {
      answer = route.operation === "listModels" ? this.models(bearer) : this.admin(bearer, route, url);
    }
    call.status = answer.status;
    if (res.destroyed) return;
    send(res, answer, { "x-request-id": `req_${randomChars(16)}` });
  }

  private route(method: string, path: string): { operation: OpenaiOperation; params: string[] } | undefined {
    const m = (re: RegExp) => re.exec(path)?.slice(1);
    if (method === "GET" && path === "/v1/models") return { operation: "listModels", params: [] };
    if (method === "GET" && path === "/v1/organization/projects")
      return { operation: "listProjects", params: [] };
    if (method === "GET" && path === "/v1/organization/usage/completions")
      return { operation: "usageCompletions", params: [] };
    const list = m(/^\/v1\/organization\/projects\/([^/]+)\/api_keys$/);
    if (method === "GET" && list) return { operation: "listProjectApiKeys", params: list };
    const one = m(/^\/v1\/organization\/projects\/([^/]+)\/api_keys\/([^/]+)$/);
    if (method === "GET" && one) return { operation: "retrieveProjectApiKey", params: one };
    if (method === "DELETE" && one) return { operation: "deleteProjectApiKey", params: one };
    return undefined;
  }

  private nextFault(operation: OpenaiOperation): OpenaiFault | undefined {
    const queue = this.faults.get(operation);
    const entry = queue?.[0];
    if (!queue || !entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) queue.shift();
    return entry.fault;
  }

  private models(bearer: string | undefined): Answer {
    const key = bearer ? this.world.liveKey(bearer) : undefined;
    if (!key) return refused(bearer);
    if (key.restricted) {
      return error(
        401,
        "You have insufficient permissions for this operation. Missing scopes: api.model.read. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.",
        "invalid_request_error",
        null,
      );
    }
    if (key.outOfQuota) {
      return error(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        "insufficient_quota",
      );
    }
    return {
      status: 200,
      headers: { "openai-organization": this.organization, "openai-project": key.projectId },
      body: {
        object: "list",
        data: [
          { id: "gpt-4o-mini", object: "model", created: 1721172741, owned_by: "system" },
          { id: "text-embedding-3-small", object: "model", created: 1705948997, owned_by: "system" },
        ],
      },
    };
  }

  private admin(
    bearer: string | undefined,
    route: { operation: OpenaiOperation; params: string[] },
    url: URL,
  ): Answer {
    if (bearer !== this.adminKey) {
      if (bearer && this.world.liveKey(bearer)) {
        return error(
          403,
          "You have insufficient permissions for this operation. Missing scopes: api.management.read. Admin API keys are required.",
          "invalid_request_error",
          null,
        );
      }
      return refused(bearer);
    }
    const q = url.searchParams;
    const [projectId = "", apiKeyId = ""] = route.params;
    switch (route.operation) {
      case "listProjects":
        // The fake archives no project: `include_archived` changes nothing.
        return { status: 200, body: this.page(this.world.projects, q, projectJson) };
      case "listProjectApiKeys": {
        if (!this.world.projects.some((p) => p.id === projectId))
          return error(404, `No such project: ${projectId}`, "invalid_request_error", null);
        const access = q.get("owner_project_access");
        const keys = this.world.keys.filter(
          (k) =>
            !k.deleted &&
            k.projectId === projectId &&
            (access === "any" || k.ownerProjectAccess === (access ?? "active")),
        );
        return { status: 200, body: this.page(keys, q, keyJson) };
      }
      case "retrieveProjectApiKey": {
        const key = this.world.key(projectId, apiKeyId);
        return key ? { status: 200, body: keyJson(key) } : notFoundKey(apiKeyId);
      }
      case "deleteProjectApiKey": {
        const key = this.world.key(projectId, apiKeyId);
        if (!key) return notFoundKey(apiKeyId);
        if (key.owner.type === "service_account") {
          return error(
            400,
            "API keys belonging to a service account cannot be deleted directly; delete the service account instead.",
            "invalid_request_error",
            null,
          );
        }
        key.deleted = true;
        return {
          status: 200,
          body: { object: "organization.project.api_key.deleted", id: key.id, deleted: true },
        };
      }
      case "usageCompletions":
        return this.usage(q);
      default:
        return error(404, "Invalid URL", "invalid_request_error", null);
    }
  }

  /** A page of `items` after the `after` id, at most `limit` (1–100, default 20) and the fake's page size. */
  private page<T extends { id: string }>(items: T[], q: URLSearchParams, json: (item: T) => unknown) {
    const limit = Math.min(Math.max(Number(q.get("limit") ?? 20) || 20, 1), 100, this.pageSize);
    const after = q.get("after");
    const start = after ? items.findIndex((i) => i.id === after) + 1 : 0;
    const slice = items.slice(start, start + limit);
    return {
      object: "list",
      data: slice.map(json),
      first_id: slice[0]?.id ?? null,
      last_id: slice.at(-1)?.id ?? null,
      has_more: start + limit < items.length,
    };
  }

  private usage(q: URLSearchParams): Answer {
    const start = Number(q.get("start_time"));
    if (!q.get("start_time") || !Number.isInteger(start)) {
      return error(400, "start_time is required", "invalid_request_error", "missing_required_parameter");
    }
    const width = q.get("bucket_width") ?? "1d";
    const widthS = width === "1h" ? HOUR_S : width === "1m" ? 60 : 24 * HOUR_S;
    const end = Number(q.get("end_time") ?? Math.floor(this.now() / 1000));
    const limit = Number(q.get("limit") ?? (width === "1h" ? 24 : width === "1m" ? 60 : 7));
    const from = Number(q.get("page")?.replace(/^page_/, "") ?? start);
    const keyIds = [...q.getAll("api_key_ids[]"), ...q.getAll("api_key_ids")];
    const data = [];
    let bucketStart = from;
    for (; bucketStart < end && data.length < limit; bucketStart += widthS) {
      const bucketEnd = bucketStart + widthS;
      const uses = this.world.usage.filter(
        (u) =>
          u.at >= bucketStart && u.at < bucketEnd && (keyIds.length === 0 || keyIds.includes(u.apiKeyId)),
      );
      const results =
        uses.length === 0
          ? []
          : [
              {
                object: "organization.usage.completions.result",
                input_tokens: uses.reduce((n, u) => n + u.inputTokens, 0),
                output_tokens: uses.reduce((n, u) => n + u.outputTokens, 0),
                input_cached_tokens: 0,
                input_audio_tokens: 0,
                output_audio_tokens: 0,
                num_model_requests: uses.reduce((n, u) => n + u.requests, 0),
                project_id: null,
                user_id: null,
                api_key_id: null,
                model: null,
                batch: null,
                service_tier: null,
              },
            ];
      data.push({ object: "bucket", start_time: bucketStart, end_time: bucketEnd, results });
    }
    const more = bucketStart < end;
    return {
      status: 200,
      body: { object: "page", data, has_more: more, next_page: more ? `page_${bucketStart}` : null },
    };
  }

  /** `POST /sandbox/openai/keys` `{owner_email?, service_account?, same_redaction_as?}`: a live key. */
  private mint(body: string): Answer {
    let input: { owner_email?: unknown; service_account?: unknown; same_redaction_as?: unknown } = {};
    try {
      input = body.trim() ? (JSON.parse(body) as typeof input) : {};
    } catch {
      return { status: 400, body: { error: "bad_request", message: "body must be JSON" } };
    }
    const twin = typeof input.same_redaction_as === "string" ? this.key(input.same_redaction_as) : undefined;
    if (input.same_redaction_as !== undefined && !twin)
      return { status: 404, body: { error: "not_found", message: "no such key to share a redaction with" } };
    const key = this.addKey({
      projectId: twin?.projectId,
      ownerEmail: typeof input.owner_email === "string" ? input.owner_email : undefined,
      serviceAccount: input.service_account === true,
      sameRedactionAs: twin?.id,
    });
    // Some use in the last hours, as a leaked key being abused would show.
    const nowS = Math.floor(this.now() / 1000);
    for (const hoursAgo of [3, 1, 0]) {
      this.addUsage(key.id, {
        at: nowS - hoursAgo * HOUR_S,
        inputTokens: 1200,
        outputTokens: 800,
        requests: 4,
      });
    }
    return { status: 201, body: { key: key.value, project_id: key.projectId, api_key_id: key.id } };
  }

  private defaultProject() {
    return this.world.projects[0] ?? this.world.addProject("Default project");
  }
}

function projectJson(p: { id: string; name: string; createdAt: number }) {
  return {
    id: p.id,
    object: "organization.project",
    name: p.name,
    created_at: p.createdAt,
    archived_at: null,
    status: "active",
  };
}

function keyJson(k: FakeApiKey) {
  return {
    object: "organization.project.api_key",
    redacted_value: k.redactedValue,
    name: k.name,
    created_at: k.createdAt,
    last_used_at: k.lastUsedAt,
    id: k.id,
    owner_project_access: k.ownerProjectAccess,
    owner:
      k.owner.type === "user"
        ? {
            type: "user",
            user: {
              id: k.owner.id,
              name: k.owner.name,
              email: k.owner.email,
              role: "owner",
              created_at: k.createdAt,
            },
          }
        : {
            type: "service_account",
            service_account: { id: k.owner.id, name: k.owner.name, role: "member", created_at: k.createdAt },
          },
  };
}

function error(status: number, message: string, type: string, code: string | null): Answer {
  return { status, body: { error: { message, type, param: null, code } } };
}

/** OpenAI's 401 for an unknown key, quoting it redacted as OpenAI does. */
function refused(bearer: string | undefined): Answer {
  if (!bearer) {
    return error(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      "invalid_request_error",
      null,
    );
  }
  const shown = bearer.length > 12 ? `${bearer.slice(0, 8)}${"*".repeat(12)}${bearer.slice(-4)}` : "***";
  return error(
    401,
    `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    "invalid_request_error",
    "invalid_api_key",
  );
}

function notFoundKey(apiKeyId: string): Answer {
  return error(404, `No such API key: ${apiKeyId}`, "invalid_request_error", null);
}

function send(res: ServerResponse, answer: Answer, extra: Record<string, string> = {}): void {
  res.writeHead(answer.status, { "content-type": "application/json", ...extra, ...answer.headers });
  res.end(JSON.stringify(answer.body));
}
