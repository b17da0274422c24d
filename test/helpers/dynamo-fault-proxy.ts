import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { type EmbeddedDynamo, localDynamoClient } from "../../local/embedded-dynamodb.js";

// A loopback HTTP proxy in front of a DynamoDB engine, for tests of a store that becomes unreachable:
// a call the test refuses has its connection dropped before any byte reaches the engine, as when the
// endpoint is down; every other call goes through unchanged.

export interface DynamoFaultProxy {
  /** Decides per call, by its operation ("PutItem", "Query" …), whether the engine is unreachable. */
  refuse: ((operation: string) => boolean) | undefined;
  /** Operations refused so far, in order. */
  refused: string[];
}

/** Puts a fault proxy in front of `db`: the returned engine's endpoint and client go through it. */
export async function behindFaultProxy(db: EmbeddedDynamo): Promise<EmbeddedDynamo & DynamoFaultProxy> {
  const target = new URL(db.endpoint);
  const state: DynamoFaultProxy = { refuse: undefined, refused: [] };
  const server = createServer((req, res) => {
    const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    if (state.refuse?.(operation)) {
      state.refused.push(operation);
      req.socket.destroy();
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => req.socket.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = localDynamoClient(endpoint);
  return Object.assign(state, {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await db.close();
    },
  });
}
