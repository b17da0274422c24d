import type { IncomingMessage, ServerResponse } from "node:http";
import { type LoopbackServer, serve } from "./loopback-server.js";

// A stand-in for GitHub's partner key endpoint (GET /meta/public_keys/secret_scanning) on 127.0.0.1:
// serves a mutable key set, counts requests, and can fail, hang, serve garbage or answer slowly.

export interface PublishedKey {
  key_identifier: string;
  /** SPKI PEM. */
  key: string;
  is_current?: boolean;
}

export type KeyServerBehaviour =
  | { kind: "ok" }
  | { kind: "status"; status: number }
  | { kind: "hang" }
  | { kind: "body"; body: string };

export const KEY_SET_PATH = "/meta/public_keys/secret_scanning";

export class FakeGitHubKeysServer {
  /** The set served on the next request; mutate it or call `publish`. */
  keys: PublishedKey[];
  behaviour: KeyServerBehaviour = { kind: "ok" };
  /** Delay before any answer (including failures). */
  delayMs = 0;
  /** Every request received, in order, with its headers. */
  readonly requests: { path: string; headers: IncomingMessage["headers"] }[] = [];

  private constructor(
    private readonly server: LoopbackServer,
    readonly url: string,
    keys: PublishedKey[],
  ) {
    this.keys = keys;
  }

  static async start(keys: PublishedKey[] = []): Promise<FakeGitHubKeysServer> {
    let instance: FakeGitHubKeysServer | undefined;
    const server = await serve((req, res) => instance?.handle(req, res));
    instance = new FakeGitHubKeysServer(server, `${server.url}${KEY_SET_PATH}`, [...keys]);
    return instance;
  }

  get requestCount(): number {
    return this.requests.length;
  }

  publish(key: PublishedKey): void {
    this.keys.push(key);
  }

  failWith(status: number): void {
    this.behaviour = { kind: "status", status };
  }

  hang(): void {
    this.behaviour = { kind: "hang" };
  }

  serveBody(body: string): void {
    this.behaviour = { kind: "body", body };
  }

  recover(): void {
    this.behaviour = { kind: "ok" };
    this.delayMs = 0;
  }

  /** Stops listening and drops open (e.g. hanging) connections; later fetches get ECONNREFUSED. */
  close(): Promise<void> {
    return this.server.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push({ path: req.url ?? "/", headers: req.headers });
    const behaviour = this.behaviour;
    const keys = structuredClone(this.keys);
    const answer = () => {
      if (req.url !== KEY_SET_PATH) {
        res.writeHead(404).end();
        return;
      }
      switch (behaviour.kind) {
        case "hang":
          return; // never answers; close() drops the connection
        case "status":
          res.writeHead(behaviour.status, { "content-type": "application/json" });
          res.end(JSON.stringify({ message: "unavailable" }));
          return;
        case "body":
          res.writeHead(200, { "content-type": "application/json" }).end(behaviour.body);
          return;
        case "ok":
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ public_keys: keys }));
      }
    };
    if (this.delayMs > 0) setTimeout(answer, this.delayMs);
    else answer();
  }
}
