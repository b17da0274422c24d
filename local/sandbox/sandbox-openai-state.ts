import { randomBytes } from "node:crypto";

// The fake OpenAI organisation: projects, their API keys (value, redaction, owner), and hourly
// completions usage per key. Plain data with a few rules (OpenAI's key formats and redaction), so the
// HTTP side (sandbox-openai.ts) only reads and answers.

export interface FakeProject {
  id: string;
  name: string;
  createdAt: number;
}

export interface FakeOwner {
  type: "user" | "service_account";
  id: string;
  name: string;
  email?: string | undefined;
}

export interface FakeApiKey {
  id: string;
  projectId: string;
  /** The secret itself: answered only by /models, never listed or logged. */
  value: string;
  redactedValue: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  owner: FakeOwner;
  /** Whether the owner still has access to the project (keys of owners who left are listed only with `any`). */
  ownerProjectAccess: "active" | "inactive";
  /** A restricted key without models.read: /models refuses it with "Missing scopes". */
  restricted: boolean;
  /** The organisation is out of credit: /models answers 429 insufficient_quota. */
  outOfQuota: boolean;
  deleted: boolean;
}

export interface UsageEntry {
  apiKeyId: string;
  /** Unix seconds within the hour the use happened. */
  at: number;
  inputTokens: number;
  outputTokens: number;
  requests: number;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

export function randomChars(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHABET[b % 64];
  return out;
}

/** A key in OpenAI's current shape: `sk-proj-` / `sk-svcacct-`, 58 characters, `T3BlbkFJ`, 58 characters. */
export function newKeyValue(prefix: string): string {
  return `${prefix}${randomChars(58)}T3BlbkFJ${randomChars(58)}`;
}

const PREFIXES = ["sk-admin-", "sk-svcacct-", "sk-proj-", "sk-"];

/** The fake's redaction: the type prefix and 3 characters, `...`, the last 4 (the spec shows `sk-abc...def`). */
export function redact(value: string): string {
  const prefix = PREFIXES.find((p) => value.startsWith(p)) ?? "";
  return `${value.slice(0, prefix.length + 3)}...${value.slice(-4)}`;
}

export class OpenaiWorld {
  readonly projects: FakeProject[] = [];
  readonly keys: FakeApiKey[] = [];
  readonly usage: UsageEntry[] = [];
  private counter = 0;

  constructor(private readonly now: () => number) {}

  private id(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${String(this.counter).padStart(4, "0")}${randomChars(8).replace(/[-_]/g, "x")}`;
  }

  private nowS(): number {
    return Math.floor(this.now() / 1000);
  }

  addProject(name: string): FakeProject {
    const project = { id: this.id("proj"), name, createdAt: this.nowS() };
    this.projects.push(project);
    return project;
  }

  addKey(options: {
    projectId: string;
    ownerEmail?: string | undefined;
    serviceAccount?: boolean | undefined;
    /** A new key whose redaction equals that key's (the collision OpenAI's listing cannot tell apart). */
    sameRedactionAs?: string | undefined;
    name?: string | undefined;
    lastUsedAt?: number | null | undefined;
    restricted?: boolean | undefined;
    outOfQuota?: boolean | undefined;
    ownerProjectAccess?: "active" | "inactive" | undefined;
  }): FakeApiKey {
    const service = options.serviceAccount === true;
    let value = newKeyValue(service ? "sk-svcacct-" : "sk-proj-");
    const twin = options.sameRedactionAs
      ? this.keys.find((k) => k.id === options.sameRedactionAs)
      : undefined;
    if (options.sameRedactionAs && !twin) throw new Error(`no key ${options.sameRedactionAs}`);
    if (twin) {
      const [head, tail] = twin.redactedValue.split("...") as [string, string];
      value = `${head}${randomChars(twin.value.length - head.length - tail.length)}${tail}`;
    }
    const owner: FakeOwner = service
      ? { type: "service_account", id: this.id("svc_acct"), name: "ci-deployer" }
      : {
          type: "user",
          id: this.id("user"),
          name: "Demo Owner",
          email: options.ownerEmail ?? "owner@example.test",
        };
    const key: FakeApiKey = {
      id: this.id("key"),
      projectId: options.projectId,
      value,
      redactedValue: redact(value),
      name: options.name ?? (service ? "Service account key" : "Secret key"),
      createdAt: this.nowS(),
      lastUsedAt: options.lastUsedAt === undefined ? null : options.lastUsedAt,
      owner,
      ownerProjectAccess: options.ownerProjectAccess ?? "active",
      restricted: options.restricted === true,
      outOfQuota: options.outOfQuota === true,
      deleted: false,
    };
    this.keys.push(key);
    return key;
  }

  addUsage(entry: UsageEntry): void {
    this.usage.push(entry);
    const key = this.keys.find((k) => k.id === entry.apiKeyId);
    if (key && (key.lastUsedAt === null || key.lastUsedAt < entry.at)) key.lastUsedAt = entry.at;
  }

  /** A live key by its value. */
  liveKey(value: string): FakeApiKey | undefined {
    return this.keys.find((k) => !k.deleted && k.value === value);
  }

  key(projectId: string, apiKeyId: string): FakeApiKey | undefined {
    return this.keys.find((k) => !k.deleted && k.projectId === projectId && k.id === apiKeyId);
  }
}
