import { randomInt } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as z from "zod";

// How the local fake GitHub (sandbox-github-api.ts, sandbox-github-alerts.ts) reads requests and
// answers: GitHub's error body, its credentials, its page parameters and Link headers.

const BODY_LIMIT_BYTES = 64 * 1024;

export class GithubFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** GitHub's validation-error-simple `errors` (strings). */
    readonly errors?: string[],
  ) {
    super(message);
  }
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export function randomToken(length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += BASE62[randomInt(BASE62.length)];
  return out;
}

/**
 * The credential in `Authorization: <scheme> <credential>`, for one of `schemes`: GitHub takes an App's
 * JWT as `Bearer` only, and an installation token as `Bearer` or `token` (Octokit's choice).
 */
export function credential(req: IncomingMessage, ...schemes: string[]): string | undefined {
  const value = req.headers.authorization;
  const match = typeof value === "string" ? /^(\w+)\s+(\S+)$/.exec(value) : null;
  return match?.[1] && schemes.includes(match[1].toLowerCase()) ? match[2] : undefined;
}

export async function readBody(req: IncomingMessage, limit = BODY_LIMIT_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new GithubFailure(413, "Body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Errors name the fields at fault, never their values (one of them is a secret). */
export function parse<T>(raw: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(raw || "{}");
  } catch {
    throw new GithubFailure(400, "Problems parsing JSON");
  }
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const fields = [...new Set(result.error.issues.map((i) => i.path.join(".") || "(body)"))];
  throw new GithubFailure(422, `Invalid or missing fields: ${fields.join(", ")}`);
}

export function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (body === undefined) {
    res.statusCode = status;
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}

/** The request's query: the mount passes the path alone, the URL keeps it. */
export function queryOf(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? "/", "http://x").searchParams;
}

const pageQuery = z.object({
  // GitHub answers at most 100 a page, whatever is asked.
  per_page: z.coerce
    .number()
    .int()
    .min(1)
    .default(30)
    .transform((n) => Math.min(n, 100)),
  page: z.coerce.number().int().min(1).default(1),
});

/** `per_page` and `page` of a list call (422 when they are not numbers). */
export function pageOf(query: URLSearchParams): { perPage: number; page: number } {
  const parsed = pageQuery.safeParse({
    per_page: query.get("per_page") ?? undefined,
    page: query.get("page") ?? undefined,
  });
  if (!parsed.success) throw new GithubFailure(422, "Invalid value for per_page or page");
  return { perPage: parsed.data.per_page, page: parsed.data.page };
}

/**
 * GitHub's Link header: `<url>; rel="next", …`, each URL the request's own with `changes` applied
 * (a page number or a cursor), on the address the request came to (the local stack's mount included).
 */
export function linkHeader(
  req: IncomingMessage,
  links: Partial<Record<"first" | "prev" | "next" | "last", Record<string, string>>>,
): string | undefined {
  const own = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
  const parts = Object.entries(links).map(([rel, changes]) => {
    const url = new URL(own);
    for (const name of ["page", "before", "after"]) url.searchParams.delete(name);
    for (const [name, value] of Object.entries(changes ?? {})) url.searchParams.set(name, value);
    return `<${url.toString()}>; rel="${rel}"`;
  });
  return parts.length > 0 ? parts.join(", ") : undefined;
}

/** `items` cut into GitHub's numbered pages, with the Link header that goes with the page asked for. */
export function numberedPage<T>(
  req: IncomingMessage,
  items: readonly T[],
): { items: T[]; link: string | undefined } {
  const { perPage, page } = pageOf(queryOf(req));
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const at = (n: number) => ({ page: String(n) });
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    link: linkHeader(req, {
      ...(page > 1 ? { prev: at(Math.min(page - 1, last)), first: at(1) } : {}),
      ...(page < last ? { next: at(page + 1), last: at(last) } : {}),
    }),
  };
}
