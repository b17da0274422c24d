import { fileURLToPath } from "node:url";
import middy from "@middy/core";
import { parseConsoleAuth } from "../lib/console/console-auth.js";
import { directoryFiles } from "../lib/console/console-files.js";
import { type ConsoleSite, serveConsole } from "../lib/console/serve-console.js";
import type { ApiEvent, ApiResult } from "../lib/http/api-event.js";
import { httpErrors } from "../lib/http/error-response.js";
import type { Log } from "../lib/log.js";
import { createLogger } from "../lib/runtime/logger.js";
import { once } from "../lib/util/concurrency.js";

/** GET /admin and GET /admin/{proxy+}: the console's page, assets and sign-in settings (public). */
export function createAdminConsoleHandler(getSite: () => Promise<ConsoleSite>, log: Log) {
  return middy<ApiEvent, ApiResult>()
    .use(httpErrors(log))
    .handler(async (event) => serveConsole(await getSite(), event.rawPath));
}

export const handler = createAdminConsoleHandler(
  once(async () => ({
    // Deployed, the built console travels with the bundle under console/ (lib/console/build-console.ts).
    files: directoryFiles(process.env.CONSOLE_DIR || fileURLToPath(new URL("./console/", import.meta.url))),
    auth: parseConsoleAuth(process.env.CONSOLE_AUTH),
  })),
  createLogger(),
);
