import { extname } from "node:path";
import { BadRequestError, NotFoundError } from "../errors.js";
import type { ApiResult } from "../http/api-event.js";
import { authOrigins, type ConsoleAuth } from "./console-auth.js";
import type { ConsoleFiles } from "./console-files.js";

// Serves the console at /admin/: its built files, /admin/config.json (how to sign in), and index.html
// for every other page path so the client-side routes can be opened directly. The page and its assets
// are public; every data call carries the admin credential.

export const CONSOLE_BASE = "/admin/";
/** Hashed names (build-console.ts): a new build has new names, so they can be cached for good. */
export const ASSETS_DIR = "assets/";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};
const TEXT = /^(text\/|application\/json|image\/svg)/;

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

export interface ConsoleSite {
  files: ConsoleFiles;
  auth: ConsoleAuth;
}

export function contentSecurityPolicy(auth: ConsoleAuth): string {
  const issuers = authOrigins(auth);
  return [
    "default-src 'self'",
    ["connect-src 'self'", ...issuers].join(" "),
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    ["form-action 'self'", ...issuers].join(" "),
  ].join("; ");
}

function securityHeaders(auth: ConsoleAuth): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(auth),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
}

/**
 * The file path under the console's root that `requestPath` names ("" for the root), or
 * BadRequestError for a path that tries to leave it (`..`, encoded or not, backslashes, NUL).
 */
export function consolePath(requestPath: string): string {
  const base = CONSOLE_BASE.slice(0, -1);
  if (requestPath !== base && !requestPath.startsWith(CONSOLE_BASE)) {
    throw new NotFoundError(`no console page at ${requestPath.slice(0, 100)}`);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath.slice(CONSOLE_BASE.length));
  } catch {
    throw new BadRequestError("the path is not valid percent-encoding");
  }
  const segments = decoded.split("/");
  if (segments.some((s) => s === ".." || s === "." || s.includes("\\") || s.includes("\0"))) {
    throw new BadRequestError("the path may not leave the console");
  }
  return segments.filter(Boolean).join("/");
}

function fileResponse(
  body: Uint8Array | string,
  contentType: string,
  cacheControl: string,
  auth: ConsoleAuth,
): ApiResult {
  const text = TEXT.test(contentType);
  return {
    statusCode: 200,
    headers: { "content-type": contentType, "cache-control": cacheControl, ...securityHeaders(auth) },
    body: typeof body === "string" ? body : Buffer.from(body).toString(text ? "utf8" : "base64"),
    isBase64Encoded: typeof body !== "string" && !text,
  };
}

/** What the public config.json tells the page: the sign-in mode and, for OIDC, the issuer's endpoints. */
export const publicConfig = (auth: ConsoleAuth) => auth;

export async function serveConsole(site: ConsoleSite, requestPath: string): Promise<ApiResult> {
  const path = consolePath(requestPath);
  if (path === "config.json") {
    return fileResponse(
      JSON.stringify(publicConfig(site.auth)),
      CONTENT_TYPES[".json"] as string,
      REVALIDATE,
      site.auth,
    );
  }
  const extension = extname(path);
  if (path && path !== "index.html" && extension) {
    const contentType = CONTENT_TYPES[extension];
    const file = contentType ? await site.files.read(path) : undefined;
    // A missing asset is a 404, never the page: a stale cached page asking for an old hash says so.
    if (!file || !contentType) throw new NotFoundError(`no console file ${path.slice(0, 100)}`);
    return fileResponse(file, contentType, path.startsWith(ASSETS_DIR) ? IMMUTABLE : REVALIDATE, site.auth);
  }
  // Every other path is a page of the console: its routes run in the browser.
  const index = await site.files.read("index.html");
  if (!index) throw new NotFoundError("the console is not built (no index.html)");
  return fileResponse(index, CONTENT_TYPES[".html"] as string, REVALIDATE, site.auth);
}
