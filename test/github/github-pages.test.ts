import { describe, expect, it } from "vitest";
import { GithubApiError } from "../../lib/errors.js";
import { nextPageUrl } from "../../lib/github/github-pages.js";

// Reading GitHub's Link header: the "next" page, and only on the API's own address.

const BASE = "https://ghe.example.com/api/v3";

describe("nextPageUrl", () => {
  it("finds rel=next among the others, whatever their order", () => {
    const link =
      `<${BASE}/orgs/acme/secret-scanning/alerts?page=3>; rel="last", ` +
      `<${BASE}/orgs/acme/secret-scanning/alerts?page=2>; rel="next", ` +
      `<${BASE}/orgs/acme/secret-scanning/alerts?page=1>; rel="first"`;
    expect(nextPageUrl(link, BASE, "x")).toBe(`${BASE}/orgs/acme/secret-scanning/alerts?page=2`);
  });

  it("keeps a cursor as GitHub wrote it", () => {
    const link = `<${BASE}/repos/a/b/secret-scanning/alerts?per_page=100&after=Y3Vyc29y%3D>; rel="next"`;
    expect(nextPageUrl(link, BASE, "x")).toBe(
      `${BASE}/repos/a/b/secret-scanning/alerts?per_page=100&after=Y3Vyc29y%3D`,
    );
  });

  it("has no next on the last page or without a Link header", () => {
    expect(
      nextPageUrl(`<${BASE}/x?page=1>; rel="prev", <${BASE}/x?page=1>; rel="first"`, BASE, "x"),
    ).toBeUndefined();
    expect(nextPageUrl(undefined, BASE, "x")).toBeUndefined();
    expect(nextPageUrl("", BASE, "x")).toBeUndefined();
  });

  it("refuses a next page on another host, scheme or outside the base path, naming the call", () => {
    for (const url of [
      "https://evil.example/api/v3/x",
      "http://ghe.example.com/api/v3/x",
      "https://ghe.example.com/x",
    ]) {
      expect(() => nextPageUrl(`<${url}>; rel="next"`, BASE, "open alerts of acme")).toThrow(GithubApiError);
      expect(() => nextPageUrl(`<${url}>; rel="next"`, BASE, "open alerts of acme")).toThrow(
        /open alerts of acme: the next page's link is not on the API's address/,
      );
    }
  });
});
