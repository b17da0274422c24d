import { createHash, timingSafeEqual } from "node:crypto";
import { UnauthorizedError } from "../errors.js";
import { type ApiEvent, header } from "../http/api-event.js";

/** Who called the admin API, recorded in the timeline when an admin acts. */
export type AdminIdentity = string;

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * Deployed, API Gateway's JWT authorizer has already checked the caller: its claims name them.
 * Locally, the caller presents TOURNIQUET_ADMIN_TOKEN as a bearer token. No token configured and no
 * authorizer means no access: the check fails closed.
 */
export function authenticateAdmin(event: ApiEvent, adminToken: string | undefined): AdminIdentity {
  const context = event.requestContext as ApiEvent["requestContext"] & {
    authorizer?: { jwt?: { claims?: Record<string, unknown> } };
  };
  const claims = context?.authorizer?.jwt?.claims;
  if (claims?.sub) return `jwt:${String(claims.email ?? claims.sub)}`;

  const presented = /^Bearer\s+(\S+)$/i.exec(header(event, "authorization") ?? "")?.[1];
  if (!presented) throw new UnauthorizedError("admin API needs an Authorization: Bearer token");
  // Comparing digests keeps the comparison constant-time whatever the lengths.
  if (!adminToken || !timingSafeEqual(digest(presented), digest(adminToken))) {
    throw new UnauthorizedError("admin token is not valid");
  }
  return "admin-token";
}
