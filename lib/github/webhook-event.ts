import type { EmitterWebhookEvent } from "@octokit/webhooks";
import * as z from "zod";
import { BadRequestError } from "../errors.js";
import { repoPageFrom } from "./alert-locations.js";

// Routes a GitHub App webhook delivery by its X-GitHub-Event and `action`: `ping` is answered, a
// secret_scanning_alert that means "this secret is exposed" is acted on, and so is a change to one of the
// App's installations (`installation`, `installation_repositories`); anything else is acknowledged
// and ignored (GitHub wants a 2xx for events an App does not act on). The payload never carries the
// secret: only where to fetch it. Its shape is @octokit/webhooks' (GitHub's published schema); the fields
// acted on are still checked at run time, since until then they are only what the sender wrote.

/** A `secret_scanning_alert` delivery, any action, as @octokit/webhooks types it. */
type SecretScanningAlertPayload = EmitterWebhookEvent<"secret_scanning_alert">["payload"];
type Alert = SecretScanningAlertPayload["alert"];
type Repository = SecretScanningAlertPayload["repository"];
type Installation = NonNullable<SecretScanningAlertPayload["installation"]>;

/** Alert actions after which the secret must be treated as leaked. */
export const ALERT_ACTIONS = [
  "created",
  "reopened",
  "publicly_leaked",
  "validated",
] as const satisfies readonly SecretScanningAlertPayload["action"][];

/** GitHub found the secret live (after our revocation it reports `inactive`). */
const ACTIVE: NonNullable<Alert["validity"]> = "active";

export type WebhookEvent =
  | { kind: "ping" }
  | { kind: "ignored"; name: string }
  | { kind: "alert"; action: AlertAction; alert: AlertEvent }
  | { kind: "installation"; name: string; change: InstallationChange };

type InstallationPayload = EmitterWebhookEvent<"installation">["payload"];
type RepositoriesPayload = EmitterWebhookEvent<"installation_repositories">["payload"];

/** `installation` actions, all acted on (GitHub's list, as @octokit/webhooks types it). */
export const INSTALLATION_ACTIONS = [
  "created",
  "deleted",
  "suspend",
  "unsuspend",
  "new_permissions_accepted",
] as const satisfies readonly InstallationPayload["action"][];

/** `installation_repositories` actions: repositories added to or removed from an installation. */
export const REPOSITORIES_ACTIONS = [
  "added",
  "removed",
] as const satisfies readonly RepositoriesPayload["action"][];

export type InstallationAction =
  | (typeof INSTALLATION_ACTIONS)[number]
  | (typeof REPOSITORIES_ACTIONS)[number];

/** What changed about one of the App's installations. */
export interface InstallationChange {
  action: InstallationAction;
  installationId: number;
  /** `owner/name` of the repositories that left the installation (`removed`); empty otherwise. */
  repositoriesRemoved: string[];
}

export type AlertAction = (typeof ALERT_ACTIONS)[number];

export interface AlertEvent {
  installationId: number;
  number: number;
  secretType: string;
  /** The alert's page on GitHub. */
  htmlUrl: string | undefined;
  owner: string;
  repo: string;
  /** `owner/name`. */
  fullName: string;
  /** The repository's page on GitHub, e.g. https://github.com/acme/app. */
  repoHtmlUrl: string;
}

/**
 * The fields acted on, named and typed as in Octokit's payload (a field GitHub renames breaks the build
 * here). Required, though Octokit's types leave most optional: without them there is nothing to fetch.
 */
interface AlertFields {
  action: AlertAction;
  alert: Required<Pick<Alert, "number" | "secret_type">> & { html_url?: Alert["html_url"] | null };
  repository: Pick<Repository, "name" | "full_name"> & {
    html_url?: Repository["html_url"] | null;
    owner: Pick<Repository["owner"], "login">;
  };
  installation: Pick<Installation, "id">;
}

/** The fields an installation change is acted on by, named and typed as in Octokit's payloads. */
interface InstallationFields {
  action: InstallationPayload["action"];
  installation: Pick<InstallationPayload["installation"], "id">;
}
interface RepositoriesFields {
  action: RepositoriesPayload["action"];
  installation: Pick<RepositoriesPayload["installation"], "id">;
  repositories_removed: Required<Pick<RepositoriesPayload["repositories_removed"][number], "full_name">>[];
}

const EVENT_NAME = /^[a-z_]{1,64}$/;
const name = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/);

const alertPayload = z.object({
  action: z.enum(ALERT_ACTIONS),
  alert: z.object({
    number: z.int().positive(),
    secret_type: z.string().min(1).max(256),
    html_url: z.url({ protocol: /^https?$/ }).nullish(),
  }),
  repository: z.object({
    name,
    full_name: z.string().min(3).max(201),
    html_url: z.url({ protocol: /^https?$/ }).nullish(),
    owner: z.object({ login: name }),
  }),
  installation: z.object({ id: z.int().positive() }),
}) satisfies z.ZodType<AlertFields>;

const installationId = z.object({ id: z.int().positive() });

const installationPayload = z.object({
  action: z.enum(INSTALLATION_ACTIONS),
  installation: installationId,
}) satisfies z.ZodType<InstallationFields>;

/** An installation may hold thousands of repositories; GitHub lists the ones that changed. */
const MAX_REPOSITORIES = 10_000;

const repositoriesPayload = z.object({
  action: z.enum(REPOSITORIES_ACTIONS),
  installation: installationId,
  repositories_removed: z
    .array(z.object({ full_name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/) }))
    .max(MAX_REPOSITORIES)
    .default([]),
}) satisfies z.ZodType<RepositoriesFields>;

export function parseWebhookEvent(event: string, body: Buffer): WebhookEvent {
  if (!EVENT_NAME.test(event)) throw new BadRequestError("malformed X-GitHub-Event header");
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new BadRequestError("body is not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new BadRequestError("body must be a JSON object");
  if (event === "ping") return { kind: "ping" };
  const rawAction = (json as { action?: unknown }).action;
  const action = typeof rawAction === "string" && /^[a-z_]{1,64}$/.test(rawAction) ? rawAction : undefined;
  const eventName = action ? `${event}.${action}` : event;
  if (event === "installation" || event === "installation_repositories")
    return parseInstallationEvent(event, action, eventName, json);
  if (event !== "secret_scanning_alert" || !(ALERT_ACTIONS as readonly string[]).includes(action ?? ""))
    return { kind: "ignored", name: eventName };
  // GitHub re-checks validity on its own, and after our revocation reports `inactive`: only a secret
  // it found live is news.
  const validity: unknown = (json as { alert?: { validity?: unknown } }).alert?.validity;
  if (action === "validated" && validity !== ACTIVE) return { kind: "ignored", name: eventName };

  const parsed = alertPayload.safeParse(json);
  if (!parsed.success) throw invalidPayload(eventName, parsed.error);
  const { alert, repository, installation } = parsed.data;
  return {
    kind: "alert",
    action: parsed.data.action,
    alert: {
      installationId: installation.id,
      number: alert.number,
      secretType: alert.secret_type,
      htmlUrl: alert.html_url ?? undefined,
      owner: repository.owner.login,
      repo: repository.name,
      fullName: repository.full_name,
      repoHtmlUrl: repository.html_url ?? repoPageFrom(alert.html_url, repository.full_name),
    },
  };
}

function parseInstallationEvent(
  event: "installation" | "installation_repositories",
  action: string | undefined,
  eventName: string,
  json: unknown,
): WebhookEvent {
  const known: readonly string[] = event === "installation" ? INSTALLATION_ACTIONS : REPOSITORIES_ACTIONS;
  if (!action || !known.includes(action)) return { kind: "ignored", name: eventName };
  const parsed = (event === "installation" ? installationPayload : repositoriesPayload).safeParse(json);
  if (!parsed.success) throw invalidPayload(eventName, parsed.error);
  const removed = "repositories_removed" in parsed.data ? parsed.data.repositories_removed : [];
  return {
    kind: "installation",
    name: eventName,
    change: {
      action: parsed.data.action,
      installationId: parsed.data.installation.id,
      repositoriesRemoved: removed.map((r) => r.full_name),
    },
  };
}

/** A 400 naming the fields at fault (never their values). */
function invalidPayload(eventName: string, error: z.ZodError): BadRequestError {
  const fields = [...new Set(error.issues.map((i) => i.path.join(".") || "(body)"))];
  const hint = fields.includes("installation") ? " (is this a GitHub App webhook?)" : "";
  return new BadRequestError(`${eventName} payload: invalid or missing fields: ${fields.join(", ")}${hint}`);
}
