import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxAzure } from "../../../local/sandbox/sandbox-azure.js";
import {
  DEMO_SUBSCRIPTION,
  type DemoAzureKey,
  SandboxAzureDemo,
  weekOfUsage,
} from "../../../local/sandbox/sandbox-azure-demo.js";

// The demo the local stack seeds its fake Azure with, and the route `simulate` takes a key from.

const NOW = Date.parse("2026-11-27T15:30:00Z");
let azure: SandboxAzure;
let demo: SandboxAzureDemo;
let server: Server;
let url = "";

beforeAll(async () => {
  azure = new SandboxAzure({ tenantId: "t", clientId: "c", clientSecret: "s" });
  demo = new SandboxAzureDemo(azure, () => NOW);
  server = createServer(
    (req, res) => void demo.handle(req, res, new URL(req.url ?? "/", "http://x").pathname),
  );
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((done) => server.close(done)));

const post = (body?: string) =>
  fetch(`${url}/keys`, { method: "POST", headers: { "content-type": "application/json" }, body });

describe("the Azure demo", () => {
  it("seeds an OpenAI and an AI Services account in the demo subscription, owned by their tags", () => {
    const seeded = new SandboxAzure({ tenantId: "t", clientId: "c", clientSecret: "s" });
    const accounts = new SandboxAzureDemo(seeded, () => NOW).seed();
    expect(accounts.map((a) => seeded.account(a.id)?.name)).toEqual(accounts.map((a) => a.name));
    expect(accounts.map((a) => [a.kind, a.subscriptionId, a.tags.owner])).toEqual([
      ["OpenAI", DEMO_SUBSCRIPTION, "ai-team@example.test"],
      ["AIServices", DEMO_SUBSCRIPTION, "ai-team@example.test"],
    ]);
  });

  it("answers POST /keys with Key1 of a new account of the kind asked for", async () => {
    const response = await post(JSON.stringify({ kind: "AIServices" }));
    expect(response.status).toBe(201);
    const key = (await response.json()) as DemoAzureKey;
    expect(key).toMatchObject({ kind: "AIServices", key_name: "Key1", owner: "ai-team@example.test" });
    expect(azure.account(key.account_id)?.key1).toBe(key.key);
    const other = (await (await post()).json()) as DemoAzureKey;
    expect(other.kind).toBe("OpenAI");
    expect(other.account_id).not.toBe(key.account_id);
  });

  it("refuses an unknown kind, a body that is not JSON, another method and another path", async () => {
    expect((await post(JSON.stringify({ kind: "Speech" }))).status).toBe(400);
    expect((await post("{nope")).status).toBe(400);
    expect((await fetch(`${url}/keys`)).status).toBe(405);
    expect((await fetch(`${url}/accounts`, { method: "POST" })).status).toBe(404);
  });

  it("makes a week of hourly usage per deployment whose last day is far above the days before", () => {
    const points = weekOfUsage(NOW, 1_000);
    expect(points).toHaveLength(7 * 24 * 2);
    const dayStart = NOW - 86_400_000;
    const hourly = (from: number, to: number) => {
      const inRange = points.filter((p) => Date.parse(p.timeStamp) >= from && Date.parse(p.timeStamp) < to);
      return inRange.reduce((sum, p) => sum + p.total, 0) / (inRange.length / 2);
    };
    expect(hourly(dayStart, NOW)).toBeGreaterThan(10 * hourly(NOW - 7 * 86_400_000, dayStart));
  });
});
