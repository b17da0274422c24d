// The notification port. Channels (outbox, email, Slack, webhook) implement it; each message has a
// deterministic id so a retried delivery is recognised and not sent twice.

export interface Notification {
  /** `<leak id>.<channel>.<recipient hash>`: the same leak, channel and recipient give the same id. */
  id: string;
  leakId: string;
  to: string;
  subject: string;
  text: string;
}

export interface Notifier {
  readonly channel: string;
  /** Delivers once; a second call with the same id reports `duplicate: true` and sends nothing. */
  send(notification: Notification): Promise<{ duplicate: boolean }>;
}
