import * as z from "zod";
import { ConfigError } from "../errors.js";

// Who may use the admin API, beyond holding a token the JWT authorizer accepts: a claim of the token
// (Cognito groups by default, or OAuth scopes, or any IdP's group claim) must hold one of the values
// configured for the action. Reading (list, detail) takes a `read` or a `write` value; retry and
// dismiss, which change a leak, take a `write` value. Deployed, the stage settings' `adminAccess` comes
// to the admin Lambda as ADMIN_ACCESS (JSON); the admin Lambda reads no config file and no secrets.

export type AdminPermission = "read" | "write";

/**
 * Every admin route (API Gateway route key) and what it needs: reads are open to both roles, changes
 * to a leak only to `write`. The handler checks it; the stack routes by it.
 */
export const ADMIN_ROUTE_NEEDS: Readonly<Record<string, AdminPermission>> = {
  "GET /v1/admin/leaks": "read",
  "GET /v1/admin/leaks/export": "read",
  "GET /v1/admin/leaks/{id}": "read",
  "GET /v1/admin/overview": "read",
  "POST /v1/admin/leaks/{id}/retry": "write",
  "POST /v1/admin/leaks/{id}/dismiss": "write",
};

/** What each permission allows, as the start of a refusal's message. */
export const PERMISSION_NEEDS: Record<AdminPermission, string> = {
  read: "reading leaks needs",
  write: "retry and dismiss need",
};

// API Gateway hands a list claim over as one string, "[a b]": a value with whitespace could not be told
// apart from two, and one with brackets, quotes or commas from the list's punctuation.
const claimValue = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\s,[\]"]+$/, "must not contain whitespace, commas, brackets or quotes");

export const adminAccessSchema = z
  .object({
    claim: z
      .string()
      .min(1)
      .max(128)
      .default("cognito:groups")
      .describe(
        "The token claim holding the caller's groups or scopes (cognito:groups, scope, groups, roles …)",
      ),
    read: z
      .array(claimValue)
      .min(1)
      .default(["tourniquet-admins"])
      .describe("Values of the claim that may list and read leaks"),
    write: z
      .array(claimValue)
      .min(1)
      .default(["tourniquet-responders"])
      .describe("Values of the claim that may also retry and dismiss leaks"),
  })
  .strict();

export type AdminAccess = z.output<typeof adminAccessSchema>;

export const DEFAULT_ADMIN_ACCESS: AdminAccess = adminAccessSchema.parse({});

/** ADMIN_ACCESS as the stack sets it; unset or empty means the defaults. */
export function parseAdminAccess(json: string | undefined): AdminAccess {
  if (!json) return DEFAULT_ADMIN_ACCESS;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (cause) {
    throw new ConfigError(`ADMIN_ACCESS is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const result = adminAccessSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const field =
        issue.path.join(".") || (issue.code === "unrecognized_keys" ? issue.keys.join(", ") : "(root)");
      return `${field}: ${issue.message}`;
    });
    throw new ConfigError(`ADMIN_ACCESS is invalid: ${problems.join("; ")}`);
  }
  return result.data;
}

/**
 * The values a claim holds, however it arrives: an array; API Gateway's "[a b]"; a space-separated
 * OAuth scope string; a JSON array in a string; or one value.
 */
export function claimValues(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((v): v is string => typeof v === "string");
  if (typeof claim !== "string") return [];
  const text = claim.trim();
  if (text.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return claimValues(parsed);
    } catch {
      // API Gateway's own rendering, not JSON: "[a b]".
    }
  }
  return text
    .replace(/^\[|\]$/g, "")
    .split(/[\s,]+/)
    .filter((v) => v.length > 0);
}

/** What a caller whose claim holds `values` may do. */
export function permissionsFor(values: readonly string[], access: AdminAccess): Set<AdminPermission> {
  const held = new Set(values);
  const permissions = new Set<AdminPermission>();
  if (access.write.some((v) => held.has(v))) permissions.add("read").add("write");
  if (access.read.some((v) => held.has(v))) permissions.add("read");
  return permissions;
}
