import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { readBody } from "../api-gateway-adapter.js";

// What the loopback fakes of vendors (AWS, Azure, OpenAI, Slack) share when serving on their own port.

/** Request bodies a fake reads: far above any call Tourniquet makes. */
export const SANDBOX_BODY_LIMIT_BYTES = 64 * 1024;

/** The request body as text; undefined once a 413 has been answered for one over the limit. */
export async function readTextOr413(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
  try {
    return (await readBody(req, SANDBOX_BODY_LIMIT_BYTES)).toString("utf8");
  } catch {
    res.writeHead(413).end();
    return undefined;
  }
}

/** Stops a fake's own server, its open keep-alive connections too. */
export async function closeServer(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
