// GitHub's token formats (vendor contracts 1.1) and what this issuer can do with each: verify with
// GET /user, and revoke with POST /credentials/revoke, whose accepted types GitHub's OpenAPI description
// lists (descriptions/api.github.com/api.github.com.yaml, operation credentials/revoke): ghp_,
// github_pat_, gho_, ghu_, ghr_.

export interface GithubTokenKind {
  /** `ghp`, `github_pat`, `gho`, `ghu`, `ghs`, `ghr`, or `legacy` (40 hex, before 2021). */
  prefix: string;
  label: string;
  /** GET /user answers for the token's user: 200 live, 401 dead. */
  verifiable: boolean;
  /** Accepted by POST /credentials/revoke. */
  revocable: boolean;
}

const KINDS: readonly GithubTokenKind[] = [
  { prefix: "github_pat", label: "fine-grained personal access token", verifiable: true, revocable: true },
  { prefix: "ghp", label: "personal access token (classic)", verifiable: true, revocable: true },
  { prefix: "gho", label: "OAuth app access token", verifiable: true, revocable: true },
  { prefix: "ghu", label: "GitHub App user access token", verifiable: true, revocable: true },
  // An installation token cannot read /user (403 "Resource not accessible by integration"), and is not
  // among /credentials/revoke's types: only the token itself can revoke it (DELETE /installation/token).
  { prefix: "ghs", label: "GitHub App installation access token", verifiable: false, revocable: false },
  // A refresh token authenticates no API call: GET /user would answer 401 for a live one.
  { prefix: "ghr", label: "GitHub App refresh token", verifiable: false, revocable: true },
];

const LEGACY: GithubTokenKind = {
  prefix: "legacy",
  label: "personal access or OAuth token (40 hex, before 2021)",
  verifiable: true,
  revocable: false,
};

export function githubTokenKind(token: string): GithubTokenKind | undefined {
  const kind = KINDS.find((k) => token.startsWith(`${k.prefix}_`));
  if (kind) return kind;
  return /^[0-9a-f]{40}$/.test(token) ? LEGACY : undefined;
}
