import type { LeakFacts, LeakMessage } from "../../lib/notify/leak-message.js";

// A complete, realistic LeakMessage for channel tests. It is built from facts only (preview, key id,
// fingerprint-derived ids), exactly like the real renderer: tests keep the raw token in their own
// variable and prove it never reaches a receiver.

export const SAMPLE_TOKEN = "tqs_JSBIE3fv52h3yqrfyNtzLP0k5DHQf9f2a";

export function makeLeakFacts(overrides: Partial<LeakFacts> = {}): LeakFacts {
  return {
    leakId: "lk_6897aab7941b3bbd1d62e960",
    tokenType: "tourniquet_sandbox_token",
    preview: "tqs_…9f2a",
    keyId: "key_9c65e584417efae7f813f62d",
    status: "revoked",
    mode: "revoke",
    firstSeen: "2026-01-01T00:00:00.000Z",
    revokedAt: "2026-01-01T00:00:00.216Z",
    timeToRevokeMs: 216,
    sightings: [
      {
        url: "https://github.com/example/demo/blob/main/.env",
        source: "github",
        firstSeen: "2026-01-01T00:00:00.000Z",
      },
    ],
    actions: [
      {
        at: "2026-01-01T00:00:00.050Z",
        step: "verify",
        outcome: "ok",
        detail: "issuer reports the key live",
      },
      {
        at: "2026-01-01T00:00:00.180Z",
        step: "revoke",
        outcome: "ok",
        detail: "issuer sandbox revoked the key",
      },
    ],
    details: [],
    nextSteps: [
      "Create a new key and update every application and secret store that used the old one.",
      "Remove the key from the places listed above and from your repository history.",
    ],
    adminUrl: "https://tourniquet.example.test/admin/leaks/lk_6897aab7941b3bbd1d62e960",
    ...overrides,
  };
}

export function makeLeakMessage(
  overrides: Partial<Omit<LeakMessage, "facts">> & { facts?: Partial<LeakFacts> } = {},
): LeakMessage {
  const { facts, ...rest } = overrides;
  const f = makeLeakFacts(facts);
  return {
    id: `${f.leakId}.email.0123456789abcdef`,
    recipient: { role: "owner", email: "owner@example.test", name: "Demo Owner" },
    subject: `[Action needed] Your ${f.tokenType} key ${f.preview} leaked and was revoked`,
    text: `Hello Demo Owner,\n\nYour key ${f.preview} was found at ${f.sightings[0]?.url ?? "?"} and revoked.\n`,
    html: `<p>Hello Demo Owner,</p><p>Your key <code>${f.preview}</code> was revoked.</p>`,
    facts: f,
    ...rest,
  };
}
