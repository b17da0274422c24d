import { IssuerError } from "../../lib/errors.js";
import type {
  CallOptions,
  ModelsAnswer,
  OpenaiAccess,
  OpenaiProject,
  Page,
  ProjectApiKey,
  UsageBucket,
  UsageQuery,
} from "../../lib/issuers/openai/openai-access.js";
import { type FakeApiKey, OpenaiWorld } from "../../local/sandbox/sandbox-openai-state.js";

// The OpenAI port in memory, over the fake's own world (keys, redactions, usage): the issuer's logic is
// table-tested without HTTP. Every call is counted; failures are scripted per operation.

type Operation = keyof OpenaiAccess;

export class InMemoryOpenai implements OpenaiAccess {
  readonly world: OpenaiWorld;
  readonly calls: { op: Operation; args: unknown[] }[] = [];
  organization = "org-test";
  pageSize = 100;
  private readonly failures = new Map<Operation, Error[]>();

  constructor(now: () => number = Date.now) {
    this.world = new OpenaiWorld(now);
  }

  addKey(options: Partial<Parameters<OpenaiWorld["addKey"]>[0]> = {}): FakeApiKey {
    const projectId = options.projectId ?? (this.world.projects[0] ?? this.world.addProject("Default")).id;
    return this.world.addKey({ ...options, projectId });
  }

  /** The next calls of `op` throw these errors, in order. */
  fail(op: Operation, ...errors: Error[]): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), ...errors]);
  }

  count(op: Operation): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  private enter(op: Operation, ...args: unknown[]): void {
    this.calls.push({ op, args });
    const error = this.failures.get(op)?.shift();
    if (error) throw error;
  }

  async listModels(key: string, _options?: CallOptions): Promise<ModelsAnswer> {
    this.enter("listModels");
    const live = this.world.liveKey(key);
    if (!live) return { accepted: false, code: "invalid_api_key" };
    if (live.outOfQuota)
      return { accepted: true, note: "insufficient_quota", organization: this.organization };
    return { accepted: true, organization: this.organization, project: live.projectId };
  }

  async listProjects(after: string | undefined): Promise<Page<OpenaiProject>> {
    this.enter("listProjects", after);
    return this.page(this.world.projects, after, (p) => ({ id: p.id, name: p.name, status: "active" }));
  }

  async listProjectApiKeys(projectId: string, after: string | undefined): Promise<Page<ProjectApiKey>> {
    this.enter("listProjectApiKeys", projectId, after);
    const keys = this.world.keys.filter((k) => !k.deleted && k.projectId === projectId);
    return this.page(keys, after, toPortKey);
  }

  async retrieveProjectApiKey(projectId: string, apiKeyId: string): Promise<ProjectApiKey | undefined> {
    this.enter("retrieveProjectApiKey", projectId, apiKeyId);
    const key = this.world.key(projectId, apiKeyId);
    return key ? toPortKey(key) : undefined;
  }

  async deleteProjectApiKey(projectId: string, apiKeyId: string): Promise<"deleted" | "absent"> {
    this.enter("deleteProjectApiKey", projectId, apiKeyId);
    const key = this.world.key(projectId, apiKeyId);
    if (!key) return "absent";
    if (key.owner.type === "service_account")
      throw new IssuerError("OpenAI DELETE …: 400: refused", { transient: false, httpStatus: 400 });
    key.deleted = true;
    return "deleted";
  }

  async completionsUsage(query: UsageQuery): Promise<UsageBucket[]> {
    this.enter("completionsUsage", query);
    const buckets: UsageBucket[] = [];
    for (let start = query.startTime; start < query.endTime; start += 3600) {
      const uses = this.world.usage.filter(
        (u) => u.apiKeyId === query.apiKeyId && u.at >= start && u.at < start + 3600,
      );
      buckets.push({
        startTime: start,
        endTime: start + 3600,
        inputTokens: uses.reduce((n, u) => n + u.inputTokens, 0),
        outputTokens: uses.reduce((n, u) => n + u.outputTokens, 0),
        requests: uses.reduce((n, u) => n + u.requests, 0),
      });
    }
    return buckets;
  }

  private page<T extends { id: string }, R>(
    items: T[],
    after: string | undefined,
    map: (t: T) => R,
  ): Page<R> {
    const start = after ? items.findIndex((i) => i.id === after) + 1 : 0;
    const slice = items.slice(start, start + this.pageSize);
    return { data: slice.map(map), hasMore: start + this.pageSize < items.length, lastId: slice.at(-1)?.id };
  }
}

function toPortKey(k: FakeApiKey): ProjectApiKey {
  return {
    id: k.id,
    redactedValue: k.redactedValue,
    name: k.name,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt,
    owner:
      k.owner.type === "user"
        ? { type: "user", id: k.owner.id, email: k.owner.email, name: k.owner.name }
        : { type: "service_account", id: k.owner.id, name: k.owner.name },
  };
}
