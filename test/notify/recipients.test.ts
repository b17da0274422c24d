import { describe, expect, it } from "vitest";
import { parseConfig, policyFor } from "../../lib/config.js";
import { planRecipients } from "../../lib/notify/recipients.js";
import type { Leak } from "../../lib/store/leak.js";
import { makeLeak } from "../helpers/dynamo.js";

const config = (overrides: Record<string, unknown> = {}) =>
  parseConfig({ notifications: { security_contact: "sec@example.test" }, ...overrides }, {});

const leak = (overrides: Partial<Leak> = {}) => makeLeak({ status: "revoked", ...overrides });

describe("planRecipients", () => {
  it("tells the owner the issuer returned", () => {
    const c = config();
    const owner = { id: "u1", email: "Dev@Example.test", name: "Dev" };
    expect(planRecipients(leak({ owner }), c, policyFor(c, "t"))).toEqual([
      { role: "owner", email: "Dev@Example.test", name: "Dev" },
    ]);
  });

  it("falls back to the owner mapped by owner id, then by key id", () => {
    const c = config({
      owners: { u9: { email: "team@example.test", name: "Team" }, key_7: { email: "k@example.test" } },
    });
    expect(planRecipients(leak({ owner: { id: "u9" } }), c, policyFor(c, "t"))[0]).toMatchObject({
      role: "owner",
      email: "team@example.test",
    });
    expect(planRecipients(leak({ keyId: "key_7" }), c, policyFor(c, "t"))[0]).toMatchObject({
      email: "k@example.test",
    });
  });

  it("falls back to the security contact, and to nobody without one", () => {
    const c = config();
    expect(planRecipients(leak(), c, policyFor(c, "t"))).toEqual([
      { role: "security_contact", email: "sec@example.test" },
    ]);
    const none = parseConfig({}, {});
    expect(planRecipients(leak(), none, policyFor(none, "t"))).toEqual([]);
  });

  it("copies the security contact always, or only on failures, as the policy says", () => {
    const owner = { email: "dev@example.test" };
    const always = config({ defaults: { copy_security_contact: "always" } });
    expect(planRecipients(leak({ owner }), always, policyFor(always, "t")).map((r) => r.role)).toEqual([
      "owner",
      "security_contact",
    ]);
    const failures = config();
    expect(planRecipients(leak({ owner }), failures, policyFor(failures, "t")).map((r) => r.role)).toEqual([
      "owner",
    ]);
    expect(
      planRecipients(leak({ owner, status: "failed" }), failures, policyFor(failures, "t")).map(
        (r) => r.role,
      ),
    ).toEqual(["owner", "security_contact"]);
  });

  it("does not copy the security contact to itself", () => {
    const c = config({ defaults: { copy_security_contact: "always" } });
    expect(planRecipients(leak({ owner: { email: "SEC@example.test" } }), c, policyFor(c, "t"))).toHaveLength(
      1,
    );
  });
});
