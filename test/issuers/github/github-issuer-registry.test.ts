import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../lib/config.js";
import { GithubTokenIssuer } from "../../../lib/issuers/github/github-token-issuer.js";
import { IssuerRegistry } from "../../../lib/issuers/issuer-registry.js";

// The registry builds a `github` issuer from the config (issue 12's contract), with no secret at all:
// GET /user uses the leaked token and /credentials/revoke is unauthenticated.

const config = (issuers: Record<string, unknown>) =>
  parseConfig(
    {
      issuers,
      token_types: {
        github_personal_access_token: { issuer: "github" },
        github_oauth_access_token: { issuer: "github" },
      },
    },
    {},
  );

describe("IssuerRegistry with a github issuer", () => {
  it("routes GitHub token types to the GitHub tokens issuer, which revokes in batches of 1,000", () => {
    const registry = IssuerRegistry.fromConfig(config({ github: { kind: "github" } }));
    const issuer = registry.forType("GITHUB_PERSONAL_ACCESS_TOKEN");
    expect(issuer).toBeInstanceOf(GithubTokenIssuer);
    expect(registry.forType("github_oauth_access_token")).toBe(issuer);
    expect(issuer?.revocationBatching?.maxTokens).toBe(1_000);
  });
});
