import { GithubApiError } from "../errors.js";

// GitHub's list answers say where the next page is in the Link header (`<url>; rel="next"`), whether
// they page by `page` numbers or by `before`/`after` cursors; the last page has no "next". The next URL
// gets the same Authorization header, so it is followed only on the API's own origin and base path.

/** The `rel="next"` URL of a Link header, if any; a next page elsewhere than `baseUrl` is refused. */
export function nextPageUrl(link: unknown, baseUrl: string, what: string): string | undefined {
  if (typeof link !== "string") return undefined;
  for (const part of link.split(",")) {
    const match = /^\s*<([^<>]*)>\s*;(.*)$/.exec(part);
    if (!match?.[1] || !/(?:^|;)\s*rel="?(?:[^"]*\s)?next(?:\s[^"]*)?"?\s*(?:;|$)/.test(match[2] ?? ""))
      continue;
    let url: URL;
    try {
      url = new URL(match[1], `${baseUrl}/`);
    } catch {
      return refuse(what);
    }
    const base = new URL(`${baseUrl}/`);
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) return refuse(what);
    return url.toString();
  }
  return undefined;
}

function refuse(what: string): never {
  throw new GithubApiError(`GitHub API ${what}: the next page's link is not on the API's address`, {
    transient: false,
  });
}
