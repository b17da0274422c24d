// Token types that no API can revoke: the service offers only its own console to kill them. Their policy
// defaults to `notify_only` (config.ts policyFor), an explicit revoke mode for them is refused at load,
// and the owner's message leads with the steps to remove the credential by hand (notify/leak-facts.ts).
// One table, so adding such a type is one entry here.

export interface UnrevocableType {
  /** Whose console the steps are in. */
  service: string;
  /** What the owner does, in order, in place of "rotate this key". */
  howToRemove: readonly string[];
}

const UNREVOCABLE: Readonly<Record<string, UnrevocableType>> = {
  slack_incoming_webhook_url: {
    service: "Slack",
    howToRemove: [
      "Delete this incoming webhook in Slack now: anyone with the URL can post to its channel. At https://api.slack.com/apps open the app that owns it, go to Incoming Webhooks and remove the webhook URL (or uninstall the app from the workspace); for a legacy custom integration, open your workspace's Manage apps → Custom Integrations → Incoming WebHooks and remove the hook.",
      "If you still need a webhook, add a new one there and keep its URL in a secret store, not in code.",
    ],
  },
};

/** The type's entry when no API can revoke it; types are matched case-insensitively. */
export function unrevocableType(tokenType: string): UnrevocableType | undefined {
  return Object.hasOwn(UNREVOCABLE, tokenType.toLowerCase())
    ? UNREVOCABLE[tokenType.toLowerCase()]
    : undefined;
}
