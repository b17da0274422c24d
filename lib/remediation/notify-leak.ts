import type { Policy } from "../config.js";
import { describeError } from "../log.js";
import { leakFacts } from "../notify/leak-facts.js";
import type { NotificationChannel, Recipient } from "../notify/leak-message.js";
import { planRecipients } from "../notify/recipients.js";
import { renderLeakMessage } from "../notify/render-leak-message.js";
import type { Leak, LeakStatus } from "../store/leak.js";
import type { LeakChanges } from "../store/leak-store.js";
import { isTransient } from "./retry.js";
import { ACTOR, isoNow, type Run, type WorkerDeps, withRetries } from "./worker-run.js";

// The notify step: one message per recipient on each email channel, one per leak on Slack and webhook
// channels. Each delivery is recorded (one conditional write, one timeline event) before the next is
// tried, so a retried step skips what was already sent.

export interface PlannedDelivery {
  channel: NotificationChannel;
  recipient: Recipient;
}

export function planDeliveries(deps: WorkerDeps, leak: Leak, policy: Policy): PlannedDelivery[] {
  const recipients = planRecipients(leak, deps.config, policy);
  const planned: PlannedDelivery[] = [];
  for (const name of policy.channels) {
    const channel = deps.channels.get(name);
    if (!channel) continue;
    if (channel.kind === "email") {
      for (const recipient of recipients) if (recipient.email) planned.push({ channel, recipient });
    } else {
      // A team channel or endpoint hears about the leak once, addressed to whoever is told first.
      planned.push({ channel, recipient: recipients[0] ?? { role: "security_contact" } });
    }
  }
  return planned;
}

export async function notifyLeak(deps: Run, leased: Leak, policy: Policy): Promise<void> {
  // notify_only tells the owner about a key it leaves live: the message speaks of the final status.
  const finalStatus: LeakStatus = leased.status === "active" ? "notified" : leased.status;
  const details = await deps.store.getLeakDetails(leased.id);
  const facts = leakFacts(
    { leak: { ...leased, status: finalStatus }, sightings: details?.sightings ?? [] },
    { adminUrl: deps.config.notifications.admin_url },
  );
  const planned = planDeliveries(deps, { ...leased, status: finalStatus }, policy);
  let leak = leased;
  for (const { channel, recipient } of planned) {
    const message = renderLeakMessage(facts, recipient, channel.name, deps.templates);
    if (leak.deliveries?.[message.id]?.status === "sent") continue;
    const who =
      `${recipient.role === "owner" ? "owner" : "security contact"} ${recipient.email ?? ""}`.trim();
    const at = isoNow(deps);
    try {
      const result = await withRetries(deps, (signal) => channel.deliver(message, { signal }));
      leak = await deps.store.updateLeak(
        leak,
        {
          deliveries: {
            ...leak.deliveries,
            [message.id]: {
              channel: channel.name,
              recipient: who,
              status: "sent",
              at,
              providerMessageId: result.providerMessageId,
            },
          },
        },
        [
          {
            at,
            step: "notify",
            outcome: "ok",
            actor: ACTOR,
            detail: `${who} notified via ${channel.name}${result.duplicate ? " (already delivered by an earlier attempt)" : ""}`,
            data: { message_id: message.id, channel: channel.name },
          },
        ],
      );
    } catch (error) {
      if (isTransient(error)) throw error; // the step is retried; what was sent is skipped then
      const reason = describeError(error);
      leak = await deps.store.updateLeak(
        leak,
        {
          deliveries: {
            ...leak.deliveries,
            [message.id]: { channel: channel.name, recipient: who, status: "failed", at, reason },
          },
        },
        [
          {
            at,
            step: "notify",
            outcome: "failed",
            actor: ACTOR,
            detail: `${who} could not be notified via ${channel.name}: ${reason}`,
            data: { message_id: message.id },
          },
        ],
      );
    }
  }
  const at = isoNow(deps);
  const anySent = Object.values(leak.deliveries ?? {}).some((d) => d.status === "sent");
  const refused = planned.length > 0 && !anySent;
  const changes: LeakChanges = {
    // notify_only's whole job is the message: when every channel refused it, the leak failed.
    status: refused && finalStatus === "notified" ? "failed" : finalStatus,
    notification: { status: planned.length === 0 ? "no_recipient" : anySent ? "sent" : "failed", at },
    lease: undefined,
  };
  if (refused)
    changes.failure = leak.failure ?? { step: "notify", reason: "every channel refused the message", at };
  await deps.store.updateLeak(
    leak,
    changes,
    planned.length === 0
      ? [
          {
            at,
            step: "notify",
            outcome: "skipped",
            actor: ACTOR,
            detail: "no owner, no owner mapping and no security contact to tell",
          },
        ]
      : [],
  );
}
