import type { GithubTokenApi } from "./github-token-api.js";
import type { OctokitGithubTokenApiOptions } from "./octokit-github-token-api.js";

// The Octokit adapter is loaded with the first GitHub call, not when the config is read: a function that
// never meets a GitHub token pays nothing for it at cold start beyond the bundle's bytes (esbuild keeps
// the dynamic import lazy; @octokit/core itself is already in the bundles for the GitHub App).

export const lazyGithubTokenApi = (options: OctokitGithubTokenApiOptions): GithubTokenApi => {
  let loaded: Promise<GithubTokenApi> | undefined;
  const api = () => {
    loaded ??= import("./octokit-github-token-api.js").then(
      ({ OctokitGithubTokenApi }) => new OctokitGithubTokenApi(options),
    );
    return loaded;
  };
  return {
    user: async (token, callOptions) => (await api()).user(token, callOptions),
    revokeCredentials: async (credentials, callOptions) =>
      (await api()).revokeCredentials(credentials, callOptions),
  };
};
