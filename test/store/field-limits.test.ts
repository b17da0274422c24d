import { describe, expect, it } from "vitest";
import {
  boundOwner,
  boundSighting,
  OWNER_EMAIL_MAX_BYTES,
  OWNER_NAME_MAX_BYTES,
} from "../../lib/store/field-limits.js";
import { utf8Bytes } from "../../lib/util/utf8.js";

describe("boundOwner", () => {
  it("keeps an owner within limits as it is", () => {
    const owner = { id: "user_1", email: "ada@example.test", name: "Ada" };
    expect(boundOwner(owner)).toEqual({ owner, dropped: [] });
    expect(boundOwner(undefined)).toEqual({ owner: undefined, dropped: [] });
  });

  it("drops an email or id over the limit instead of cutting it into someone else's", () => {
    const email = `${"a".repeat(OWNER_EMAIL_MAX_BYTES - 13)}@example.test`;
    expect(utf8Bytes(email)).toBe(OWNER_EMAIL_MAX_BYTES);
    expect(boundOwner({ email }).owner).toEqual({ email });
    expect(boundOwner({ email: `a${email}`, id: "u".repeat(257), name: "Ada" })).toEqual({
      owner: { name: "Ada" },
      dropped: ["id", "email"],
    });
    expect(boundOwner({ email: `a${email}` })).toEqual({ owner: undefined, dropped: ["email"] });
  });

  it("shortens a long name, counted in bytes, with a visible cut", () => {
    const { owner } = boundOwner({ name: "名".repeat(200) });
    expect(owner?.name).toMatch(/^名+…$/);
    expect(utf8Bytes(owner?.name ?? "")).toBeLessThanOrEqual(OWNER_NAME_MAX_BYTES);
  });
});

describe("boundSighting", () => {
  it("keeps the start of an over-long URL and source and shows the cut", () => {
    const sighting = boundSighting({
      url: `https://github.com/o/r/blob/main/${"d/".repeat(5_000)}`,
      source: "s".repeat(1_000),
    });
    expect(sighting.url.startsWith("https://github.com/o/r/blob/main/d/")).toBe(true);
    expect(sighting.url.endsWith("…")).toBe(true);
    expect(utf8Bytes(sighting.url)).toBeLessThanOrEqual(2_048);
    expect(utf8Bytes(sighting.source)).toBeLessThanOrEqual(256);
    expect(boundSighting({ url: "https://x.test/a", source: "commit" })).toEqual({
      url: "https://x.test/a",
      source: "commit",
    });
  });
});
