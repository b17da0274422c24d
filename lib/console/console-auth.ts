import * as z from "zod";
import { ConfigError } from "../errors.js";

// How the console signs in (`GET /admin/config.json`): the local stack's admin token, or an OIDC issuer
// with the authorization code flow and PKCE (deployed). Read once from CONSOLE_AUTH (JSON).

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** HTTPS, or plain HTTP on loopback only (tests and local issuers). */
const endpoint = z.url().refine((value) => {
  const url = new URL(value);
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
}, "must be an https URL (http only on loopback)");

const consoleAuthSchema = z.discriminatedUnion("auth", [
  z.object({ auth: z.literal("token") }).strict(),
  z
    .object({
      auth: z.literal("oidc"),
      issuer: endpoint,
      client_id: z.string().min(1).max(256),
      authorization_endpoint: endpoint,
      token_endpoint: endpoint,
      end_session_endpoint: endpoint.optional(),
      scopes: z
        .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/))
        .min(1)
        .default(["openid", "email"]),
      /** The token the page presents to the admin API: one the API's JWT authorizer accepts. */
      token: z.enum(["access_token", "id_token"]).default("access_token"),
    })
    .strict(),
  // A deployed stage whose issuer has no console client: the page says why it cannot sign in.
  z.object({ auth: z.literal("none"), reason: z.string().min(1).max(500) }).strict(),
]);

export type ConsoleAuth = z.output<typeof consoleAuthSchema>;
/** What the stack writes into CONSOLE_AUTH (defaults may be left out). */
export type ConsoleAuthSetting = z.input<typeof consoleAuthSchema>;

export const TOKEN_AUTH: ConsoleAuth = { auth: "token" };

/** CONSOLE_AUTH's value; unset or empty means token mode. A bad value stops the function at start. */
export function parseConsoleAuth(raw: string | undefined): ConsoleAuth {
  if (!raw?.trim()) return TOKEN_AUTH;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(`CONSOLE_AUTH is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = consoleAuthSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "CONSOLE_AUTH"}: ${i.message}`);
    throw new ConfigError(`CONSOLE_AUTH is invalid: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/** The origins the page may call besides its own (the issuer's token endpoint). */
export function authOrigins(auth: ConsoleAuth): string[] {
  if (auth.auth !== "oidc") return [];
  const urls = [auth.issuer, auth.token_endpoint, auth.authorization_endpoint, auth.end_session_endpoint];
  return [...new Set(urls.filter((u): u is string => Boolean(u)).map((u) => new URL(u).origin))];
}
