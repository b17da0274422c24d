import { describe, expect, it } from "vitest";
import type { Issuer } from "../../lib/issuers/issuer.js";
import { lazyIssuer } from "../../lib/issuers/lazy-issuer.js";

// An issuer loaded with its first call: the same answers, loaded once, and only the optional methods
// the real issuer has (callers test for them).

const real: Issuer = {
  name: "acme",
  verify: async () => ({ status: "active", keyId: "k1" }),
  revoke: async (request) => ({ keyId: request.keyId, alreadyRevoked: false }),
  usageSince: async (request) => ({ since: request.since, until: request.since, figures: { requests: 3 } }),
};

describe("lazyIssuer", () => {
  it("loads the issuer once, with its first call, and answers as it does", async () => {
    let loads = 0;
    const issuer = lazyIssuer("acme", async () => {
      loads++;
      return real;
    }, ["usageSince"]);
    expect(loads).toBe(0);
    expect(issuer.name).toBe("acme");
    const [verified, revoked] = await Promise.all([
      issuer.verify({ token: "t", type: "x" }),
      issuer.revoke({ keyId: "k1", type: "x", leakId: "lk" }),
    ]);
    expect(verified).toEqual({ status: "active", keyId: "k1" });
    expect(revoked).toEqual({ keyId: "k1", alreadyRevoked: false });
    expect((await issuer.usageSince?.({ keyId: "k1", since: "s" }))?.figures).toEqual({ requests: 3 });
    expect(loads).toBe(1);
  });

  it("has only the optional methods named", () => {
    const issuer = lazyIssuer("acme", async () => real);
    expect(issuer.rotate).toBeUndefined();
    expect(issuer.usageSince).toBeUndefined();
    expect(issuer.refresh).toBeUndefined();
  });

  it("tries a failed load again with the next call", async () => {
    let loads = 0;
    const issuer = lazyIssuer("acme", async () => {
      loads++;
      if (loads === 1) throw new Error("chunk not readable");
      return real;
    });
    await expect(issuer.verify({ token: "t", type: "x" })).rejects.toThrow("chunk not readable");
    expect((await issuer.verify({ token: "t", type: "x" })).status).toBe("active");
  });
});
