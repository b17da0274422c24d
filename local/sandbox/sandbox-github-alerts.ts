import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as z from "zod";
import {
  GithubFailure,
  linkHeader,
  numberedPage,
  pageOf,
  parse,
  queryOf,
  readBody,
  send,
} from "./sandbox-github-http.js";

// The secret scanning side of the local fake GitHub (sandbox-github-api.ts): the App's installations
// and their repositories, and their alerts: listed per organisation or repository (filtered, sorted,
// paged by number or by cursor, with GitHub's Link headers), read one at a time with the secret and
// locations, and resolved or reopened with PATCH. Shapes follow github/rest-api-description
// (2022-11-28). An installation may lack organisation-level access: its organisation listing then
// answers 403 "Resource not accessible by integration", as GitHub does.

export interface SandboxAlertLocation {
  type: string;
  details: Record<string, unknown>;
}

export const RESOLUTIONS = ["false_positive", "wont_fix", "revoked", "used_in_tests"] as const;
export type SandboxResolution = (typeof RESOLUTIONS)[number];

export interface SandboxAlert {
  number: number;
  /** `owner/name`. */
  repository: string;
  installationId: number;
  secret: string;
  secretType: string;
  state: "open" | "resolved";
  createdAt: string;
  updatedAt: string;
  resolution: SandboxResolution | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolutionComment: string | null;
  locations: SandboxAlertLocation[];
}

export interface SandboxInstallation {
  id: number;
  account: { login: string; type: "Organization" | "User" };
  /** False: GET /orgs/{org}/secret-scanning/alerts answers 403; repositories must be listed one by one. */
  orgAlerts: boolean;
  /** `owner/name` of repositories with no alert yet (those with one are the installation's anyway). */
  repositories: string[];
  /** Suspended by the account: listed with `suspended_at`, and refused an installation token. */
  suspended: boolean;
}

const repositoryName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/);

export const newAlertBody = z.object({
  repository: repositoryName,
  secret: z.string().min(1).max(4096),
  secret_type: z.string().min(1).max(256),
  installation_id: z.int().positive().default(1),
  /** Backdates the alert (created and last updated), to show listings that stop at a time. */
  created_at: z.iso.datetime().optional(),
  locations: z
    .array(z.object({ type: z.string().min(1), details: z.record(z.string(), z.unknown()) }))
    .optional(),
});

export const newInstallationBody = z.object({
  id: z.int().positive(),
  account: z.object({
    login: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/),
    type: z.enum(["Organization", "User"]).default("Organization"),
  }),
  org_alerts: z.boolean().default(true),
  repositories: z.array(repositoryName).max(1000).default([]),
  suspended: z.boolean().default(false),
});

/** PATCH …/alerts/{n}: GitHub's `secret-scanning/update-alert` body (assignee and validity not kept). */
const updateAlertBody = z.object({
  state: z.enum(["open", "resolved"]),
  resolution: z.enum(RESOLUTIONS).nullish(),
  resolution_comment: z.string().nullish(),
  assignee: z.string().nullish(),
  validity: z.enum(["active", "inactive"]).nullish(),
});

const listQuery = z.object({
  state: z.enum(["open", "resolved"]).optional(),
  sort: z.enum(["created", "updated"]).default("created"),
  direction: z.enum(["asc", "desc"]).default("desc"),
  secret_type: z.string().optional(),
  resolution: z.string().optional(),
  hide_secret: z.enum(["true", "false"]).default("false"),
});

export interface SandboxAlertsOptions {
  now: () => number;
  webUrl: string;
  apiBase: string;
  /** The App's bot user, as resolved_by shows it. Default "tourniquet[bot]". */
  botLogin?: string | undefined;
  /**
   * How a PATCH that resolves an alert again with its current resolution is answered. GitHub's
   * description lists 400 "the resolution was not changed" (default); "ok" answers 200 instead.
   */
  repeatResolution?: "bad_request" | "ok" | undefined;
}

export class SandboxGithubAlerts {
  readonly alerts: SandboxAlert[] = [];
  readonly installations = new Map<number, SandboxInstallation>();

  constructor(private readonly options: SandboxAlertsOptions) {}

  private iso(ms = this.options.now()): string {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  addInstallation(input: z.input<typeof newInstallationBody>): SandboxInstallation {
    const data = newInstallationBody.parse(input);
    const installation: SandboxInstallation = {
      id: data.id,
      account: { login: data.account.login, type: data.account.type },
      orgAlerts: data.org_alerts,
      repositories: data.repositories,
      suspended: data.suspended,
    };
    this.installations.set(installation.id, installation);
    return installation;
  }

  createAlert(input: z.input<typeof newAlertBody>): SandboxAlert {
    const data = newAlertBody.parse(input);
    const [owner = ""] = data.repository.split("/");
    // An alert for an installation never announced makes one: the repository owner's organisation.
    if (!this.installations.has(data.installation_id))
      this.addInstallation({ id: data.installation_id, account: { login: owner, type: "Organization" } });
    const number = this.alerts.filter((a) => same(a.repository, data.repository)).length + 1;
    const commitSha = randomBytes(20).toString("hex");
    const created = data.created_at ? this.iso(Date.parse(data.created_at)) : this.iso();
    const alert: SandboxAlert = {
      number,
      repository: data.repository,
      installationId: data.installation_id,
      secret: data.secret,
      secretType: data.secret_type,
      state: "open",
      createdAt: created,
      updatedAt: created,
      resolution: null,
      resolvedAt: null,
      resolvedBy: null,
      resolutionComment: null,
      locations: data.locations ?? [
        {
          type: "commit",
          details: {
            path: ".env",
            start_line: 1,
            end_line: 1,
            start_column: 1,
            end_column: 1 + data.secret.length,
            blob_sha: randomBytes(20).toString("hex"),
            blob_url: `${this.options.apiBase}/repos/${data.repository}/git/blobs/${commitSha}`,
            commit_sha: commitSha,
            commit_url: `${this.options.apiBase}/repos/${data.repository}/git/commits/${commitSha}`,
          },
        },
      ],
    };
    this.alerts.push(alert);
    return alert;
  }

  find(repository: string, number: number): SandboxAlert | undefined {
    return this.alerts.find((a) => same(a.repository, repository) && a.number === number);
  }

  /** The repositories an installation sees: those named for it and those of its alerts. */
  repositoriesOf(installationId: number): string[] {
    const named = this.installations.get(installationId)?.repositories ?? [];
    const withAlerts = this.alerts
      .filter((a) => a.installationId === installationId)
      .map((a) => a.repository);
    const byKey = new Map([...named, ...withAlerts].map((r) => [r.toLowerCase(), r]));
    return [...byKey.values()].sort((a, b) => a.localeCompare(b));
  }

  /** GET /app/installations (the App's JWT was checked by the caller). */
  listInstallations(req: IncomingMessage, res: ServerResponse, appId: string): void {
    const all = [...this.installations.values()].sort((a, b) => a.id - b.id);
    const { items, link } = numberedPage(req, all);
    if (link) res.setHeader("link", link);
    send(
      res,
      200,
      items.map((i) => ({
        id: i.id,
        account: this.account(i.account.login, i.account.type),
        repository_selection: i.repositories.length > 0 ? "selected" : "all",
        access_tokens_url: `${this.options.apiBase}/app/installations/${i.id}/access_tokens`,
        repositories_url: `${this.options.apiBase}/installation/repositories`,
        html_url: `${this.options.webUrl}/organizations/${i.account.login}/settings/installations/${i.id}`,
        app_id: Number(appId) || 1,
        target_id: accountId(i.account.login),
        target_type: i.account.type,
        permissions: { secret_scanning_alerts: "write", metadata: "read" },
        events: ["secret_scanning_alert"],
        created_at: "2024-01-01T00:00:00Z",
        updated_at: "2024-01-01T00:00:00Z",
        single_file_name: null,
        suspended_at: i.suspended ? "2024-06-01T00:00:00Z" : null,
        suspended_by: i.suspended ? this.account(i.account.login, "User") : null,
      })),
    );
  }

  /** GET /installation/repositories, as the installation. */
  installationRepositories(req: IncomingMessage, res: ServerResponse, installationId: number): void {
    const all = this.repositoriesOf(installationId);
    const { items, link } = numberedPage(req, all);
    if (link) res.setHeader("link", link);
    const installation = this.installations.get(installationId);
    send(res, 200, {
      total_count: all.length,
      repository_selection: installation?.repositories.length ? "selected" : "all",
      repositories: items.map((r) => this.repositoryJson(r)),
    });
  }

  /** GET /orgs/{org}/secret-scanning/alerts, as the installation. */
  listOrgAlerts(req: IncomingMessage, res: ServerResponse, installationId: number, org: string): void {
    const installation = this.installations.get(installationId);
    if (
      !installation ||
      !same(installation.account.login, org) ||
      installation.account.type !== "Organization"
    )
      throw new GithubFailure(404, "Not Found");
    if (!installation.orgAlerts) throw new GithubFailure(403, "Resource not accessible by integration");
    const alerts = this.alerts.filter(
      (a) => a.installationId === installationId && same(a.repository.split("/")[0] ?? "", org),
    );
    this.listAlerts(req, res, alerts, true);
  }

  /** GET /repos/{owner}/{repo}/secret-scanning/alerts, as the installation. */
  listRepoAlerts(
    req: IncomingMessage,
    res: ServerResponse,
    installationId: number,
    repository: string,
  ): void {
    if (!this.repositoriesOf(installationId).some((r) => same(r, repository)))
      throw new GithubFailure(404, "Not Found");
    const alerts = this.alerts.filter(
      (a) => a.installationId === installationId && same(a.repository, repository),
    );
    this.listAlerts(req, res, alerts, false);
  }

  /** The alert, if the installation may see it (another installation's is as invisible as a missing one). */
  authorized(installationId: number, repository: string, number: number): SandboxAlert {
    const alert = this.find(repository, number);
    if (!alert || alert.installationId !== installationId) throw new GithubFailure(404, "Not Found");
    return alert;
  }

  /** PATCH /repos/{owner}/{repo}/secret-scanning/alerts/{n}: resolve or reopen. */
  async update(req: IncomingMessage, res: ServerResponse, alert: SandboxAlert): Promise<void> {
    const body = parse(await readBody(req), updateAlertBody);
    if (body.state === "resolved" && !body.resolution)
      throw new GithubFailure(422, "A resolution is required when the state is resolved");
    if (body.state === "open" && body.resolution)
      throw new GithubFailure(422, "State does not match the resolution");
    const now = this.iso();
    if (body.state === "resolved") {
      const resolution = body.resolution as SandboxResolution;
      const unchanged = alert.state === "resolved" && alert.resolution === resolution;
      if (unchanged && this.options.repeatResolution !== "ok")
        throw new GithubFailure(400, "The resolution was not changed");
      if (!unchanged) {
        Object.assign(alert, { state: "resolved", resolution, resolvedAt: now, updatedAt: now });
        alert.resolvedBy = this.options.botLogin ?? "tourniquet[bot]";
        alert.resolutionComment = body.resolution_comment ?? null;
      }
    } else if (alert.state === "resolved") {
      Object.assign(alert, { state: "open", resolution: null, resolvedAt: null, resolvedBy: null });
      alert.resolutionComment = body.resolution_comment ?? null;
      alert.updatedAt = now;
    }
    send(res, 200, this.alertJson(alert, false));
  }

  /** The sandbox's own view of an alert (GET /_alerts/{owner}/{repo}/{n}): what was done, no secret. */
  inspect(alert: SandboxAlert) {
    return {
      number: alert.number,
      repository: alert.repository,
      installation_id: alert.installationId,
      secret_type: alert.secretType,
      state: alert.state,
      resolution: alert.resolution,
      resolved_at: alert.resolvedAt,
      resolved_by: alert.resolvedBy,
      resolution_comment: alert.resolutionComment,
      created_at: alert.createdAt,
      updated_at: alert.updatedAt,
    };
  }

  /** The REST alert (`secret-scanning-alert`), the secret included unless hidden. */
  alertJson(alert: SandboxAlert, hideSecret: boolean) {
    return {
      ...this.alertFields(alert),
      state: alert.state,
      resolution: alert.resolution,
      resolved_at: alert.resolvedAt,
      resolved_by: alert.resolvedBy ? this.account(alert.resolvedBy, "Bot") : null,
      resolution_comment: alert.resolutionComment,
      ...(hideSecret ? {} : { secret: alert.secret }),
    };
  }

  /** What the REST alert and the webhook's alert share. */
  alertFields(alert: SandboxAlert) {
    const url = `${this.options.apiBase}/repos/${alert.repository}/secret-scanning/alerts/${alert.number}`;
    return {
      number: alert.number,
      created_at: alert.createdAt,
      updated_at: alert.updatedAt,
      url,
      html_url: this.alertPage(alert),
      locations_url: `${url}/locations`,
      resolution: null,
      resolved_at: null,
      resolved_by: null,
      secret_type: alert.secretType,
      secret_type_display_name: alert.secretType,
      validity: "unknown",
      publicly_leaked: false,
      multi_repo: false,
    };
  }

  alertPage(alert: SandboxAlert): string {
    return `${this.options.webUrl}/${alert.repository}/security/secret-scanning/${alert.number}`;
  }

  /**
   * Filters, sorts and pages a listing. With `before` or `after` in the query (empty asks for the first
   * page), it pages by cursor: a cursor names the alert it follows, so alerts leaving the list meanwhile
   * shift nothing; otherwise by page number, as GitHub does too.
   */
  private listAlerts(
    req: IncomingMessage,
    res: ServerResponse,
    alerts: SandboxAlert[],
    withRepository: boolean,
  ) {
    const query = queryOf(req);
    const parsed = listQuery.safeParse(Object.fromEntries(query));
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join(".")))];
      throw new GithubFailure(422, `Invalid value for ${fields.join(", ")}`);
    }
    const q = parsed.data;
    const types = q.secret_type?.split(",");
    const resolutions = q.resolution?.split(",");
    const sign = q.direction === "asc" ? 1 : -1;
    const key = (a: SandboxAlert): Cursor => [
      q.sort === "updated" ? a.updatedAt : a.createdAt,
      a.repository,
      a.number,
    ];
    const order = (a: Cursor, b: Cursor) => sign * compare(a, b);
    const listed = alerts
      .filter((a) => !q.state || a.state === q.state)
      .filter((a) => !types || types.includes(a.secretType))
      .filter((a) => !resolutions || (a.resolution !== null && resolutions.includes(a.resolution)))
      .sort((a, b) => order(key(a), key(b)));
    let page: SandboxAlert[];
    let link: string | undefined;
    if (query.has("before") || query.has("after")) {
      const { perPage } = pageOf(query);
      const after = cursorOf(query.get("after"));
      const before = cursorOf(query.get("before"));
      const window = listed.filter(
        (a) => (!after || order(key(a), after) > 0) && (!before || order(key(a), before) < 0),
      );
      page = before && !after ? window.slice(-perPage) : window.slice(0, perPage);
      const first = page[0];
      const last = page.at(-1);
      const hasNext = last !== undefined && listed.some((a) => order(key(a), key(last)) > 0);
      const hasPrev = first !== undefined && listed.some((a) => order(key(a), key(first)) < 0);
      link = linkHeader(req, {
        ...(hasPrev && first ? { prev: { before: cursorText(key(first)) } } : {}),
        ...(hasNext && last ? { next: { after: cursorText(key(last)) } } : {}),
      });
    } else {
      ({ items: page, link } = numberedPage(req, listed));
    }
    if (link) res.setHeader("link", link);
    const hide = q.hide_secret === "true";
    send(
      res,
      200,
      page.map((a) =>
        withRepository
          ? { ...this.alertJson(a, hide), repository: this.repositoryJson(a.repository) }
          : this.alertJson(a, hide),
      ),
    );
  }

  /** `simple-repository`, the fields Tourniquet or a reader would look at. */
  private repositoryJson(repository: string) {
    const [owner = "", name = ""] = repository.split("/");
    return {
      id: accountId(repository),
      node_id: Buffer.from(`010:Repository${accountId(repository)}`).toString("base64"),
      name,
      full_name: repository,
      owner: this.account(owner, "Organization"),
      private: true,
      html_url: `${this.options.webUrl}/${repository}`,
      url: `${this.options.apiBase}/repos/${repository}`,
    };
  }

  private account(login: string, type: string) {
    return {
      login,
      id: accountId(login),
      type,
      site_admin: false,
      html_url: `${this.options.webUrl}/${login.replace(/\[bot\]$/, "")}`,
      url: `${this.options.apiBase}/users/${login}`,
    };
  }
}

type Cursor = [string, string, number];

function compare(a: Cursor, b: Cursor): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  const repo = a[1].toLowerCase().localeCompare(b[1].toLowerCase());
  return repo !== 0 ? repo : a[2] - b[2];
}

const cursorText = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor)).toString("base64url");

/** The cursor a query names; undefined for none or "" (the first page); 422 for a foreign one. */
function cursorOf(value: string | null): Cursor | undefined {
  if (!value) return undefined;
  try {
    const cursor = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
    if (
      Array.isArray(cursor) &&
      typeof cursor[0] === "string" &&
      typeof cursor[1] === "string" &&
      Number.isInteger(cursor[2])
    )
      return cursor as Cursor;
  } catch {
    // fall through
  }
  throw new GithubFailure(422, "Invalid cursor");
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** A stable id for a login or repository name (GitHub's ids are numbers). */
function accountId(name: string): number {
  let id = 7;
  for (const char of name.toLowerCase()) id = (id * 31 + char.charCodeAt(0)) % 2_000_000_000;
  return id + 1;
}
