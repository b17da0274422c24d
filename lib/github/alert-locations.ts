import type { AlertLocation } from "./github-app-client.js";

// Where on GitHub a secret scanning alert's secret sits, as a page a person can open: the file at the
// commit and lines, the issue, the pull request or the discussion. GitHub's location details mostly
// hold REST API URLs; those are mapped to pages where the page's address can be built from them, and
// the alert's own page stands in where it cannot (a comment's API URL lacks its issue's number).

export function locationUrl(location: AlertLocation, repoPage: string, alertPage: string): string {
  const d = location.details;
  const str = (key: string) => (typeof d[key] === "string" ? (d[key] as string) : undefined);
  const num = (key: string) => (typeof d[key] === "number" ? (d[key] as number) : undefined);
  switch (location.type) {
    case "commit": {
      const sha = str("commit_sha");
      const path = str("path");
      if (!sha || !/^[0-9a-f]{7,64}$/i.test(sha) || !path) return alertPage;
      const file = path.replace(/^\/+/, "").split("/").map(encodeURIComponent).join("/");
      const start = num("start_line");
      const end = num("end_line");
      const lines = start ? (end && end !== start ? `#L${start}-L${end}` : `#L${start}`) : "";
      return `${repoPage}/blob/${sha}/${file}${lines}`;
    }
    case "wiki_commit":
      return samePage(str("page_url"), repoPage) ?? alertPage;
    case "issue_title":
    case "issue_body":
      return numbered(str(`${location.type}_url`), /\/issues\/(\d+)$/, `${repoPage}/issues/`) ?? alertPage;
    case "pull_request_title":
    case "pull_request_body":
      return numbered(str(`${location.type}_url`), /\/pulls\/(\d+)$/, `${repoPage}/pull/`) ?? alertPage;
    case "pull_request_review": {
      const match = /\/pulls\/(\d+)\/reviews\/(\d+)$/.exec(str("pull_request_review_url") ?? "");
      return match ? `${repoPage}/pull/${match[1]}#pullrequestreview-${match[2]}` : alertPage;
    }
    case "discussion_title":
    case "discussion_body":
    case "discussion_comment":
      // Already pages (https://github.com/o/r/discussions/7, …#discussioncomment-9), on the repo's host.
      return samePage(str(`${location.type}_url`), repoPage) ?? alertPage;
    default:
      return alertPage;
  }
}

function numbered(apiUrl: string | undefined, pattern: RegExp, pagePrefix: string): string | undefined {
  const number = apiUrl ? pattern.exec(apiUrl)?.[1] : undefined;
  return number ? `${pagePrefix}${number}` : undefined;
}

/** `url` when it is a page of the repository itself; anything else is not linked from a notification. */
function samePage(url: string | undefined, repoPage: string): string | undefined {
  return url?.startsWith(`${repoPage}/`) ? url : undefined;
}

/** https://github.com/o/r from the alert's https://github.com/o/r/security/secret-scanning/3. */
export function repoPageFrom(alertUrl: string | null | undefined, fullName: string): string {
  const match = alertUrl ? /^(https:\/\/[^/]+\/[^/]+\/[^/]+)\/security\//.exec(alertUrl) : null;
  return match?.[1] ?? `https://github.com/${fullName}`;
}
