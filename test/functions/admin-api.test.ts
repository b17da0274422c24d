import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AdminDeps, createAdminApiHandler } from "../../functions/admin-api.js";
import { parseAdminAccess } from "../../lib/admin/admin-access.js";
import type { ApiResult } from "../../lib/http/api-event.js";
import { silentLog } from "../../lib/log.js";
import { InProcessQueue } from "../../lib/queue/in-process-queue.js";
import type { Leak } from "../../lib/store/leak.js";
import { createTestStore, makeLeak, sharedEngine, type TestStore } from "../helpers/dynamo.js";
import { apiEvent, lambdaContext } from "../helpers/lambda-events.js";

// The admin Lambda handler as API Gateway calls it deployed: its JWT authorizer has verified the token
// and hands the claims over (array claims as "[a b]" strings, booleans as "true").

const ISS = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123";
const reader = { iss: ISS, sub: "reader-1", "cognito:groups": "[tourniquet-admins]" };
const responder = {
  iss: ISS,
  sub: "responder-1",
  "cognito:groups": "[developers tourniquet-responders]",
  email: "ceo@acme.test", // not verified: not an identity
};

describe("admin-api handler behind the JWT authorizer", () => {
  const engine = sharedEngine();
  let t: TestStore;
  let queue: InProcessQueue;
  let failed: Leak;
  let deps: AdminDeps;

  beforeEach(async () => {
    t = await createTestStore(engine());
    queue = new InProcessQueue();
    failed = makeLeak({
      status: "failed",
      sealedToken: "sealed-for-retry",
      failure: { step: "revoke", reason: "issuer answered 500", at: "2025-03-01T12:00:05.000Z" },
    });
    await t.store.createLeak(failed);
    deps = { store: t.store, queue };
  });
  afterEach(() => queue.close());

  const call = async (
    routeKey: string,
    claims: Record<string, string> | undefined,
    options: { body?: string; query?: Record<string, string>; deps?: AdminDeps } = {},
  ) => {
    const handler = createAdminApiHandler(async () => options.deps ?? deps, silentLog);
    const id = routeKey.includes("{id}") ? { pathParameters: { id: failed.id } } : {};
    const result = (await handler(
      apiEvent(routeKey, {
        path: routeKey.split(" ")[1]?.replace("{id}", failed.id),
        ...id,
        ...(claims ? { claims } : {}),
        ...(options.body !== undefined ? { body: options.body } : {}),
        ...(options.query ? { queryStringParameters: options.query } : {}),
      }),
      lambdaContext("AdminApi"),
    )) as ApiResult;
    return { status: result.statusCode, body: JSON.parse(result.body ?? "null") };
  };
  const stored = () => t.store.getLeak(failed.id);
  const dismissal = JSON.stringify({ reason: "accepted_risk", note: "test key" });

  it("refuses a signed-in caller outside the admin groups with 403, reading nothing", async () => {
    const outsider = { iss: ISS, sub: "dev-9", "cognito:groups": "[developers]" };
    for (const route of [
      "GET /v1/admin/leaks",
      "GET /v1/admin/leaks/{id}",
      "GET /v1/admin/leaks/export",
      "GET /v1/admin/overview",
    ]) {
      const answer = await call(route, outsider);
      expect(answer.status, route).toBe(403);
      expect(answer.body).toEqual({
        error: "forbidden",
        message: expect.stringMatching(/cognito:groups.*tourniquet-admins/),
      });
    }
  });

  it("lets the read group list and read, and refuses it retry and dismiss without changing the leak", async () => {
    expect((await call("GET /v1/admin/leaks", reader)).body.items).toEqual([
      expect.objectContaining({ id: failed.id }),
    ]);
    expect((await call("GET /v1/admin/leaks/{id}", reader)).status).toBe(200);

    const retry = await call("POST /v1/admin/leaks/{id}/retry", reader);
    expect(retry.status).toBe(403);
    expect(retry.body.message).toMatch(/retry and dismiss need .*tourniquet-responders/);
    const dismiss = await call("POST /v1/admin/leaks/{id}/dismiss", reader, { body: dismissal });
    expect(dismiss.status).toBe(403);
    expect(await stored()).toEqual(failed);
    expect(queue.stats().queued).toBe(0);
  });

  it("lets a responder retry and dismiss, recording issuer and subject, not the unverified email", async () => {
    const retry = await call("POST /v1/admin/leaks/{id}/retry", responder);
    expect(retry.status).toBe(202);
    expect(queue.stats().queued).toBe(1);
    const retried = await stored();
    expect(retried?.timeline.at(-1)).toMatchObject({ step: "retry", actor: `jwt:${ISS}#responder-1` });

    // Failed again at the same step, then dismissed.
    const again = await t.store.updateLeak(
      retried as Leak,
      { status: "failed", failure: failed.failure },
      [],
    );
    const dismiss = await call("POST /v1/admin/leaks/{id}/dismiss", responder, { body: dismissal });
    expect(dismiss.status).toBe(200);
    expect(dismiss.body.leak.dismissal).toMatchObject({
      reason: "accepted_risk",
      by: `jwt:${ISS}#responder-1`,
    });
    const dismissed = await stored();
    expect(dismissed?.version).toBe(again.version + 1);
    expect(dismissed?.timeline.at(-1)).toMatchObject({ step: "dismiss", actor: `jwt:${ISS}#responder-1` });
    expect(JSON.stringify(dismissed)).not.toContain("ceo@acme.test");
  });

  it("names a responder by a verified email in the timeline's words, by subject as the actor", async () => {
    const verified = { ...responder, email: "sec@acme.test", email_verified: "true" };
    expect((await call("POST /v1/admin/leaks/{id}/dismiss", verified, { body: dismissal })).status).toBe(200);
    expect((await stored())?.timeline.at(-1)).toMatchObject({
      actor: `jwt:${ISS}#responder-1`,
      detail: expect.stringMatching(/^dismissed by sec@acme\.test /),
    });
  });

  it("follows the configured claim and values (OAuth scopes here)", async () => {
    const access = parseAdminAccess(
      JSON.stringify({ claim: "scope", read: ["tourniquet/read"], write: ["tourniquet/respond"] }),
    );
    const scoped = { ...deps, access };
    const readScope = { iss: ISS, sub: "svc-1", scope: "tourniquet/read" };
    expect((await call("GET /v1/admin/leaks", readScope, { deps: scoped })).status).toBe(200);
    expect((await call("POST /v1/admin/leaks/{id}/retry", readScope, { deps: scoped })).status).toBe(403);
    // The default groups mean nothing once scopes are configured.
    expect((await call("GET /v1/admin/leaks", responder, { deps: scoped })).status).toBe(403);
    const respond = { ...readScope, scope: "openid tourniquet/respond" };
    expect((await call("POST /v1/admin/leaks/{id}/retry", respond, { deps: scoped })).status).toBe(202);
  });

  it("still answers 401 without claims or a bearer token", async () => {
    const answer = await call("GET /v1/admin/leaks", undefined);
    expect(answer).toEqual({ status: 401, body: expect.objectContaining({ error: "unauthorized" }) });
  });

  it("answers the export as API Gateway passes it on: a text body, its headers, no base64", async () => {
    const handler = createAdminApiHandler(async () => ({ ...deps, exportLimits: { maxRows: 1 } }), silentLog);
    await t.store.createLeak(makeLeak({ firstSeen: "2025-02-01T00:00:00.000Z" }));
    const result = (await handler(
      apiEvent("GET /v1/admin/leaks/export", {
        path: "/v1/admin/leaks/export",
        claims: reader,
        queryStringParameters: { format: "csv", status: "failed,pending" },
      }),
      lambdaContext("AdminApi"),
    )) as ApiResult;
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded ?? false).toBe(false);
    expect(typeof result.body).toBe("string");
    expect(result.body?.split("\n")[1]).toMatch(new RegExp(`^${failed.id},`));
    const cursor = result.headers?.["x-next-cursor"];
    expect(cursor).toEqual(expect.any(String));
    expect(result.headers).toMatchObject({
      "content-type": "text/csv; charset=utf-8",
      "cache-control": "no-store",
      "content-disposition": expect.stringMatching(
        /^attachment; filename="tourniquet-leaks-\d{4}-\d{2}-\d{2}\.csv"$/,
      ),
      link: `</v1/admin/leaks/export?format=csv&status=failed%2Cpending&cursor=${cursor}>; rel="next"`,
    });
  });

  it("answers the overview to the read group", async () => {
    const answer = await call("GET /v1/admin/overview", reader, {
      query: { since: "2025-03-01", until: "2025-03-01" },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ total: 1, by_status: { failed: 1 }, attention: { failed: 1 } });
  });
});
