import { describe, expect, it } from "vitest";
import { authenticateAdmin } from "../../lib/admin/admin-auth.js";
import { UnauthorizedError } from "../../lib/errors.js";
import type { ApiEvent } from "../../lib/http/api-event.js";

const TOKEN = "adm_9c1f3e7a5b2d4f60";

const event = (headers: Record<string, string> = {}, claims?: Record<string, unknown>): ApiEvent =>
  ({
    version: "2.0",
    routeKey: "GET /v1/admin/leaks",
    rawPath: "/v1/admin/leaks",
    rawQueryString: "",
    headers,
    isBase64Encoded: false,
    requestContext: {
      http: { method: "GET", path: "/v1/admin/leaks" },
      ...(claims ? { authorizer: { jwt: { claims, scopes: null } } } : {}),
    },
  }) as unknown as ApiEvent;

const rejects = (e: ApiEvent, token: string | undefined) => {
  expect(() => authenticateAdmin(e, token)).toThrow(UnauthorizedError);
};

describe("authenticateAdmin", () => {
  it.each(["authorization", "Authorization", "AUTHORIZATION"])("accepts the bearer token in %s", (name) => {
    expect(authenticateAdmin(event({ [name]: `Bearer ${TOKEN}` }), TOKEN)).toBe("admin-token");
  });

  it("accepts the scheme in any case", () => {
    expect(authenticateAdmin(event({ authorization: `bearer ${TOKEN}` }), TOKEN)).toBe("admin-token");
  });

  it.each([
    ["a wrong token", "Bearer adm_wrong"],
    ["a prefix of the token", `Bearer ${TOKEN.slice(0, -1)}`],
    ["the token with a suffix", `Bearer ${TOKEN}x`],
    ["the token in another case", `Bearer ${TOKEN.toUpperCase()}`],
    ["another scheme", `Basic ${TOKEN}`],
    ["the bare token", TOKEN],
    ["an empty bearer", "Bearer "],
    ["two tokens", `Bearer ${TOKEN} ${TOKEN}`],
  ])("rejects %s", (_, value) => {
    rejects(event({ authorization: value }), TOKEN);
  });

  it("rejects a missing Authorization header", () => {
    rejects(event({}), TOKEN);
    rejects(event({ "x-admin-token": TOKEN }), TOKEN);
  });

  it("fails closed when no token is configured", () => {
    rejects(event({}), undefined);
    rejects(event({ authorization: "Bearer undefined" }), undefined);
    rejects(event({ authorization: "Bearer anything" }), undefined);
    rejects(event({ authorization: "Bearer " }), "");
    rejects(event({ authorization: "Bearer x" }), "");
  });

  it("answers with a 401 error", () => {
    try {
      authenticateAdmin(event({ authorization: "Bearer nope" }), TOKEN);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UnauthorizedError);
      expect((error as UnauthorizedError).status).toBe(401);
      expect((error as Error).message).not.toContain(TOKEN);
    }
  });

  it("names a JWT caller by email, else by subject", () => {
    expect(authenticateAdmin(event({}, { sub: "user-123", email: "sec@acme.test" }), undefined)).toBe(
      "jwt:sec@acme.test",
    );
    expect(authenticateAdmin(event({}, { sub: "user-123" }), undefined)).toBe("jwt:user-123");
  });

  it("prefers the authorizer's claims over a bearer token", () => {
    expect(authenticateAdmin(event({ authorization: `Bearer ${TOKEN}` }, { sub: "user-123" }), TOKEN)).toBe(
      "jwt:user-123",
    );
  });

  it("does not accept claims without a subject", () => {
    rejects(event({}, { email: "sec@acme.test" }), undefined);
    rejects(event({}, {}), undefined);
  });
});
