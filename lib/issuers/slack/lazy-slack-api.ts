import { DEFAULT_SLACK_TIMEOUT_MS, type SlackApi } from "./slack-api.js";
import type { SlackWebApiOptions } from "./slack-web-api.js";
import { probeWebhook } from "./slack-webhook-probe.js";

// Slack's SDK is loaded with the first Web API call, not when the config is read: a function that never
// meets a Slack token pays nothing for it at cold start beyond the bundle's bytes (esbuild keeps the
// dynamic import lazy). A webhook check needs no SDK and never loads it.

/** How the issuer registry gets the port for one `slack` issuer. */
export type SlackApiFactory = (options: SlackWebApiOptions) => SlackApi;

export const lazySlackApi: SlackApiFactory = (options) => {
  let loaded: Promise<SlackApi> | undefined;
  const api = () => {
    loaded ??= import("./slack-web-api.js").then(({ SlackWebApi }) => new SlackWebApi(options));
    return loaded;
  };
  return {
    canLookUpUsers: Boolean(options.botToken),
    authTest: async (token, callOptions) => (await api()).authTest(token, callOptions),
    revoke: async (token, callOptions) => (await api()).revoke(token, callOptions),
    userEmail: async (userId, callOptions) => (await api()).userEmail(userId, callOptions),
    probeWebhook: (url, callOptions) =>
      probeWebhook(
        url,
        { timeoutMs: options.timeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS, now: options.now },
        callOptions,
      ),
  };
};
