import { afterEach, describe, expect, it } from "vitest";
import { MAX_RESPONSE_BYTES, post } from "../../lib/http/post.js";
import { type LoopbackServer, serve } from "../helpers/loopback-server.js";

// The outbound POST transport against real loopback servers: whatever a service answers, at most a
// capped body is read and held (issue 9, point 13).

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const send = (url: string, options: { maxResponseBytes?: number } = {}) =>
  post(new URL(url), { headers: {}, body: "{}", signal: AbortSignal.timeout(5_000), ...options });

describe("post", () => {
  it("reads a body within the cap whole", async () => {
    server = await serve((_req, res) => res.writeHead(201, { "x-id": "7" }).end("é".repeat(1_000)));
    const answer = await send(server.url);
    expect(answer).toMatchObject({ status: 201, text: "é".repeat(1_000) });
    expect(answer.bodyTruncated).toBeFalsy();
    expect(answer.header("X-Id")).toBe("7");
  });

  it("stops reading an endless body at the cap and answers with what it read, marked truncated", async () => {
    const chunk = Buffer.alloc(64 * 1024, "a");
    server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    });
    const started = Date.now();
    const answer = await send(server.url, { maxResponseBytes: 100_000 });
    expect(answer.status).toBe(200);
    expect(answer.bodyTruncated).toBe(true);
    expect(answer.text).toBe("a".repeat(100_000));
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("caps at 1 MiB by default", async () => {
    server = await serve((_req, res) => res.writeHead(200).end(Buffer.alloc(3 * 1024 * 1024, "b")));
    const answer = await send(server.url);
    expect(MAX_RESPONSE_BYTES).toBe(1024 * 1024);
    expect(answer.bodyTruncated).toBe(true);
    expect(Buffer.byteLength(answer.text)).toBe(MAX_RESPONSE_BYTES);
  });

  it("keeps working for the next call on the same keep-alive agent after a cut answer", async () => {
    let calls = 0;
    server = await serve((_req, res) => {
      calls++;
      res.writeHead(200).end(calls === 1 ? Buffer.alloc(200_000, "c") : "ok");
    });
    expect((await send(server.url, { maxResponseBytes: 1_000 })).bodyTruncated).toBe(true);
    expect((await send(server.url)).text).toBe("ok");
  });
});
