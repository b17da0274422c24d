import { createHash, timingSafeEqual } from "node:crypto";
import { ForbiddenError, UnauthorizedError } from "../errors.js";
import { type ApiEvent, header } from "../http/api-event.js";
import {
  type AdminAccess,
  type AdminPermission,
  claimValues,
  DEFAULT_ADMIN_ACCESS,
  PERMISSION_NEEDS,
  permissionsFor,
} from "./admin-access.js";

/** Who called the admin API and what they may do. */
export interface AdminIdentity {
  /**
   * Stable and verified, recorded as the actor when an admin acts: `jwt:<iss>#<sub>` (the token's
   * issuer and subject), or `admin-token` for the local stack's bearer token.
   */
  id: string;
  /** For people to read in the timeline: an email the issuer says is verified, else `id`. */
  display: string;
  permissions: ReadonlySet<AdminPermission>;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

const isTrue = (claim: unknown) => claim === true || claim === "true";

/**
 * Deployed, API Gateway's JWT authorizer has already verified the token: its claims name the caller
 * (issuer and subject; an email only when the issuer marks it verified) and, through `access`, what
 * they may do. Locally, the caller presents TOURNIQUET_ADMIN_TOKEN as a bearer token and may do
 * everything. No token configured and no authorizer means no access: the check fails closed.
 */
export function authenticateAdmin(
  event: ApiEvent,
  adminToken: string | undefined,
  access: AdminAccess = DEFAULT_ADMIN_ACCESS,
): AdminIdentity {
  const context = event.requestContext as ApiEvent["requestContext"] & {
    authorizer?: { jwt?: { claims?: Record<string, unknown> } };
  };
  const claims = context?.authorizer?.jwt?.claims;
  if (claims) {
    const { iss, sub } = claims;
    if (typeof iss !== "string" || typeof sub !== "string" || !iss || !sub) {
      throw new UnauthorizedError("the token's claims do not name an issuer and a subject");
    }
    const id = `jwt:${iss}#${sub}`;
    // An unverified email is whatever the user typed: it never names anyone here.
    const email =
      isTrue(claims.email_verified) && typeof claims.email === "string" ? claims.email : undefined;
    return {
      id,
      display: email ?? id,
      permissions: permissionsFor(claimValues(claims[access.claim]), access),
    };
  }

  const presented = /^Bearer\s+(\S+)$/i.exec(header(event, "authorization") ?? "")?.[1];
  if (!presented) throw new UnauthorizedError("admin API needs an Authorization: Bearer token");
  // Comparing digests keeps the comparison constant-time whatever the lengths.
  if (!adminToken || !timingSafeEqual(digest(presented), digest(adminToken))) {
    throw new UnauthorizedError("admin token is not valid");
  }
  return { id: "admin-token", display: "admin-token", permissions: new Set(["read", "write"]) };
}

/** ForbiddenError, naming the claim and the values that would do, unless `admin` may do this. */
export function requirePermission(
  admin: AdminIdentity,
  permission: AdminPermission,
  access: AdminAccess = DEFAULT_ADMIN_ACCESS,
): void {
  if (admin.permissions.has(permission)) return;
  const values = permission === "read" ? [...access.read, ...access.write] : access.write;
  throw new ForbiddenError(
    `${PERMISSION_NEEDS[permission]} the token's ${access.claim} claim to hold one of: ${values.join(", ")}`,
  );
}
