import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { UnauthorizedError, UsageError } from "../errors.js";
import { isLoopbackHost } from "../http/outbound.js";

// Where the CLI finds the stack and its credentials, resolved once from flags and the environment:
// --api, else TOURNIQUET_URL, else the local stack on PORT (3000); the admin token from
// TOURNIQUET_ADMIN_TOKEN, else, for a stack on this machine only, the one it wrote to its data dir.

export type Env = Record<string, string | undefined>;

export interface StackSettings {
  /** The API's base URL, without a trailing slash. */
  apiUrl: string;
  /** The local stack's data dir (TOURNIQUET_DATA_DIR), absolute. */
  dataDir: string;
  /** The admin bearer token; throws UnauthorizedError saying where to set one when there is none. */
  adminToken(): string;
}

export function stackSettings(env: Env, api?: string): StackSettings {
  const apiUrl = (api ?? env.TOURNIQUET_URL ?? `http://127.0.0.1:${env.PORT || 3000}`).replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new UsageError(`--api / TOURNIQUET_URL must be a URL such as http://127.0.0.1:3000, not ${apiUrl}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--api / TOURNIQUET_URL must be an http(s) URL, not ${apiUrl}`);
  }
  const dataDir = resolve(env.TOURNIQUET_DATA_DIR || ".tourniquet");
  return {
    apiUrl,
    dataDir,
    adminToken: () => {
      if (env.TOURNIQUET_ADMIN_TOKEN) return env.TOURNIQUET_ADMIN_TOKEN;
      // The local stack's own token never goes to another host.
      const file = join(dataDir, "admin-token");
      if (isLoopbackHost(url.hostname)) {
        try {
          return readFileSync(file, "utf8").trim();
        } catch {
          throw new UnauthorizedError(
            `no admin token: set TOURNIQUET_ADMIN_TOKEN (the local stack writes its own to ${file}, which does not exist; set TOURNIQUET_DATA_DIR to the stack's data dir)`,
          );
        }
      }
      throw new UnauthorizedError(`no admin token for ${apiUrl}: set TOURNIQUET_ADMIN_TOKEN`);
    },
  };
}
