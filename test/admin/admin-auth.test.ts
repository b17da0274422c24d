import { describe, expect, it } from "vitest";
import { type AdminAccess, type AdminPermission, parseAdminAccess } from "../../lib/admin/admin-access.js";
import { type AdminIdentity, authenticateAdmin, requirePermission } from "../../lib/admin/admin-auth.js";
import { ConfigError, ForbiddenError, UnauthorizedError } from "../../lib/errors.js";
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
    expect(authenticateAdmin(event({ [name]: `Bearer ${TOKEN}` }), TOKEN)).toMatchObject({
      id: "admin-token",
    });
  });

  it("accepts the scheme in any case", () => {
    expect(authenticateAdmin(event({ authorization: `bearer ${TOKEN}` }), TOKEN)).toMatchObject({
      id: "admin-token",
    });
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

  it("gives the local admin token full access", () => {
    const admin = authenticateAdmin(event({ authorization: `Bearer ${TOKEN}` }), TOKEN);
    expect([...admin.permissions].sort()).toEqual(["read", "write"]);
    expect(() => requirePermission(admin, "write")).not.toThrow();
  });
});

describe("authenticateAdmin with API Gateway's JWT claims", () => {
  const ISS = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123";
  const jwt = (claims: Record<string, unknown>, access?: AdminAccess) =>
    authenticateAdmin(event({}, { iss: ISS, sub: "user-123", ...claims }), undefined, access);
  const forbidden = (admin: AdminIdentity, permission: AdminPermission, access?: AdminAccess) => {
    const error = (() => {
      try {
        requirePermission(admin, permission, access);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).status).toBe(403);
    expect((error as ForbiddenError).errorCode).toBe("forbidden");
    return (error as Error).message;
  };

  it("does not let a token with a subject but no admin group read or act", () => {
    const admin = jwt({ email: "sec@acme.test", email_verified: "true" });
    expect(admin.permissions.size).toBe(0);
    expect(forbidden(admin, "read")).toMatch(/cognito:groups.*tourniquet-admins/);
    expect(forbidden(admin, "write")).toMatch(/cognito:groups.*tourniquet-responders/);
  });

  it("lets the read group read, and only read", () => {
    const admin = jwt({ "cognito:groups": "[tourniquet-admins]" });
    expect(() => requirePermission(admin, "read")).not.toThrow();
    expect(forbidden(admin, "write")).toMatch(/retry and dismiss need .*tourniquet-responders/);
  });

  it("lets the responder group read and act", () => {
    const admin = jwt({ "cognito:groups": "[developers tourniquet-responders]" });
    expect(() => requirePermission(admin, "read")).not.toThrow();
    expect(() => requirePermission(admin, "write")).not.toThrow();
  });

  it.each([
    ["API Gateway's bracketed list", "[developers tourniquet-admins]"],
    ["a space-separated list", "developers tourniquet-admins"],
    ["a JSON array in a string", '["developers","tourniquet-admins"]'],
    ["an array", ["developers", "tourniquet-admins"]],
    ["a single value", "tourniquet-admins"],
  ])("reads the claim given as %s", (_, groups) => {
    expect(jwt({ "cognito:groups": groups }).permissions.has("read")).toBe(true);
  });

  it.each([
    ["a group that only contains the name", "[tourniquet-admins-old]"],
    ["another case", "[Tourniquet-Admins]"],
    ["the name in another claim", undefined],
  ])("does not count %s", (_, groups) => {
    const claims = groups === undefined ? { groups: "[tourniquet-admins]" } : { "cognito:groups": groups };
    expect(jwt(claims).permissions.size).toBe(0);
  });

  it("reads the configured claim and values, such as OAuth scopes", () => {
    const access = parseAdminAccess(
      JSON.stringify({ claim: "scope", read: ["tourniquet/read"], write: ["tourniquet/admin"] }),
    );
    const reader = jwt(
      { scope: "openid tourniquet/read", "cognito:groups": "[tourniquet-responders]" },
      access,
    );
    expect([...reader.permissions]).toEqual(["read"]);
    expect(forbidden(reader, "write", access)).toMatch(/scope claim .*tourniquet\/admin/);
    expect([...jwt({ scope: "tourniquet/admin" }, access).permissions].sort()).toEqual(["read", "write"]);
  });

  it("records the issuer and subject as the identity, never an unverified email", () => {
    const unverified = jwt({ "cognito:groups": "[tourniquet-admins]", email: "ceo@acme.test" });
    expect(unverified.id).toBe(`jwt:${ISS}#user-123`);
    expect(unverified.display).toBe(`jwt:${ISS}#user-123`);
    const claimedFalse = jwt({ email: "ceo@acme.test", email_verified: "false" });
    expect(JSON.stringify({ ...claimedFalse, permissions: [] })).not.toContain("ceo@acme.test");
  });

  it("shows a verified email beside the identity, which stays the subject", () => {
    for (const verified of ["true", true]) {
      const admin = jwt({ email: "sec@acme.test", email_verified: verified });
      expect(admin.id).toBe(`jwt:${ISS}#user-123`);
      expect(admin.display).toBe("sec@acme.test");
    }
  });

  it("prefers the authorizer's claims over a bearer token", () => {
    const admin = authenticateAdmin(
      event({ authorization: `Bearer ${TOKEN}` }, { iss: ISS, sub: "u-1" }),
      TOKEN,
    );
    expect(admin.id).toBe(`jwt:${ISS}#u-1`);
    expect(admin.permissions.size).toBe(0);
  });

  it("does not accept claims without a subject or an issuer", () => {
    rejects(
      event({}, { iss: ISS, email: "sec@acme.test", "cognito:groups": "[tourniquet-responders]" }),
      undefined,
    );
    rejects(event({}, { sub: "user-123", "cognito:groups": "[tourniquet-responders]" }), undefined);
    rejects(event({}, {}), undefined);
  });
});

describe("parseAdminAccess", () => {
  it("defaults to Cognito groups: tourniquet-admins read, tourniquet-responders also retry and dismiss", () => {
    expect(parseAdminAccess(undefined)).toEqual({
      claim: "cognito:groups",
      read: ["tourniquet-admins"],
      write: ["tourniquet-responders"],
    });
    expect(parseAdminAccess("")).toEqual(parseAdminAccess(undefined));
    expect(parseAdminAccess('{"read":["viewers"]}')).toMatchObject({
      read: ["viewers"],
      write: ["tourniquet-responders"],
    });
  });

  it.each([
    ["not JSON", "{", /ADMIN_ACCESS is not valid JSON/],
    ["an empty read list", '{"read":[]}', /read/],
    ["a value with a space", '{"write":["tourniquet responders"]}', /write\.0.*whitespace/],
    ["an unknown field", '{"groups":["x"]}', /groups/],
  ])("refuses %s with a ConfigError naming it", (_, json, message) => {
    expect(() => parseAdminAccess(json)).toThrow(ConfigError);
    expect(() => parseAdminAccess(json)).toThrow(message);
  });
});
