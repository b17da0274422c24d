import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NotificationError } from "../errors.js";
import type { Notification, Notifier } from "./notifier.js";

/**
 * The local stack's mail channel: one JSON file per message in the outbox folder. The file is created
 * exclusively, so a redelivered or concurrent send of the same message writes nothing the second time.
 */
export class OutboxNotifier implements Notifier {
  readonly channel = "outbox";

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  async send(notification: Notification): Promise<{ duplicate: boolean }> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${notification.id}.json`);
    const body = JSON.stringify(
      { ...notification, channel: "email", created_at: new Date(this.now()).toISOString() },
      null,
      2,
    );
    try {
      await writeFile(file, `${body}\n`, { flag: "wx", mode: 0o600 });
      return { duplicate: false };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return { duplicate: true };
      throw new NotificationError(`cannot write outbox message ${notification.id}`, { cause: error });
    }
  }
}
