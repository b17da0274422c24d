import type { Policy } from "../config.js";
import { ConflictError } from "../errors.js";
import { describeError } from "../log.js";
import { leakFacts } from "../notify/leak-facts.js";
import type { NotificationChannel, Recipient } from "../notify/leak-message.js";
import { planRecipients } from "../notify/recipients.js";
import { renderLeakMessage } from "../notify/render-leak-message.js";
import type { DeliveryRecord, Leak, LeakStatus, TimelineEvent } from "../store/leak.js";
import type { LeakChanges } from "../store/leak-store.js";
import { isTransient } from "../util/retry.js";
import { ACTOR, isoNow, newLease, type Run, type WorkerDeps, withRetries } from "./worker-run.js";

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

/** A delivery's outcome not yet written: it goes with the leak's next write. */
interface Outcome {
  messageId: string;
  record: DeliveryRecord;
  events: TimelineEvent[];
}

/**
 * Sends what is owed; returns the leak as recorded told. Each write carries what the previous one could
 * not: the lease goes with the first message's intent, a message's outcome with the next one's intent,
 * and the last outcome with the leak's notification; so every intent is still written before its send and
 * every outcome before anything else is done.
 */
export async function notifyLeak(deps: Run, unleased: Leak, policy: Policy): Promise<Leak> {
  // Claimed by the first write, whichever it is; a live lease of another delivery stops us here.
  let lease: Leak["lease"] = newLease(deps, unleased, "notify");
  // notify_only tells the owner about a key it leaves live: the message speaks of the final status.
  const finalStatus: LeakStatus = unleased.status === "active" ? "notified" : unleased.status;
  const details = await deps.store.getLeakDetails(unleased.id);
  const facts = leakFacts(
    { leak: { ...unleased, status: finalStatus }, sightings: details?.sightings ?? [] },
    { adminUrl: deps.config.notifications.admin_url },
  );
  const planned = planDeliveries(deps, { ...unleased, status: finalStatus }, policy);
  let leak = unleased;
  let outcome: Outcome | undefined;
  for (const { channel, recipient } of planned) {
    const message = renderLeakMessage(facts, recipient, channel.name, deps.templates);
    const earlier = leak.deliveries?.[message.id];
    if (earlier?.status === "sent" || outcome?.messageId === message.id) continue;
    const who =
      `${recipient.role === "owner" ? "owner" : "security contact"} ${recipient.email ?? ""}`.trim();
    const delivery = { channel: channel.name, recipient: who };
    // An intent left from an earlier attempt: that attempt died between the send and its record, so
    // the recipient may have the message already. Sent again (it may arrive twice), and said so.
    const unknown = earlier?.status === "sending";
    if (unknown) {
      deps.log.warn("sending again a notification whose earlier outcome is unknown", {
        leakId: leak.id,
        messageId: message.id,
        channel: channel.name,
        since: earlier.at,
      });
    }
    // The intent is recorded before the send: a send is never made that the leak does not know of.
    const intent: Outcome = {
      messageId: message.id,
      record: { ...delivery, status: "sending", at: isoNow(deps) },
      events: [],
    };
    leak = await recordDeliveries(deps, leak, [...(outcome ? [outcome] : []), intent], lease);
    lease = undefined;
    outcome = undefined;
    const at = isoNow(deps);
    try {
      const result = await withRetries(deps, (signal) => channel.deliver(message, { signal }));
      const again = unknown ? " (sent again: an earlier attempt's outcome was unknown)" : "";
      outcome = {
        messageId: message.id,
        record: { ...delivery, status: "sent", at, providerMessageId: result.providerMessageId },
        events: [
          {
            at,
            step: "notify",
            outcome: "ok",
            actor: ACTOR,
            detail: `${who} notified via ${channel.name}${result.duplicate ? " (already delivered by an earlier attempt)" : again}`,
            data: {
              message_id: message.id,
              channel: channel.name,
              ...(unknown ? { outcome_was_unknown: true } : {}),
            },
          },
        ],
      };
    } catch (error) {
      if (isTransient(error)) throw error; // the step is retried; what was sent is skipped then
      const reason = describeError(error);
      outcome = {
        messageId: message.id,
        record: { ...delivery, status: "failed", at, reason },
        events: [
          {
            at,
            step: "notify",
            outcome: "failed",
            actor: ACTOR,
            detail: `${who} could not be notified via ${channel.name}: ${reason}`,
            data: { message_id: message.id },
          },
        ],
      };
    }
  }
  const at = isoNow(deps);
  const deliveries = withOutcomes(leak.deliveries, outcome ? [outcome] : []);
  const anySent = Object.values(deliveries ?? {}).some((d) => d.status === "sent");
  const refused = planned.length > 0 && !anySent;
  const changes: LeakChanges = {
    deliveries,
    // notify_only's whole job is the message: when every channel refused it, the leak failed.
    status: refused && finalStatus === "notified" ? "failed" : finalStatus,
    notification: { status: planned.length === 0 ? "no_recipient" : anySent ? "sent" : "failed", at },
    lease: undefined,
  };
  if (refused)
    changes.failure = leak.failure ?? { step: "notify", reason: "every channel refused the message", at };
  const events: TimelineEvent[] = [...(outcome?.events ?? [])];
  if (planned.length === 0) {
    events.push({
      at,
      step: "notify",
      outcome: "skipped",
      actor: ACTOR,
      detail: "no owner, no owner mapping and no security contact to tell",
    });
  }
  try {
    return await deps.store.updateLeak(leak, changes, events);
  } catch (error) {
    // The last outcome is never lost with the write: recorded on the leak as it now is, and the loop
    // looks at the leak again before telling it done.
    if (error instanceof ConflictError && outcome) await recordDeliveries(deps, leak, [outcome], undefined);
    throw error;
  }
}

function withOutcomes(deliveries: Leak["deliveries"], outcomes: readonly Outcome[]): Leak["deliveries"] {
  if (outcomes.length === 0) return deliveries;
  const next = { ...deliveries };
  for (const { messageId, record } of outcomes) next[messageId] = record;
  return next;
}

/**
 * Records deliveries' states (and the lease, with the first). Under this worker's lease nobody else
 * should write the leak; should a write still conflict, the records are applied to the leak as it now is
 * rather than lost, so a message that went out is never sent again for want of its record.
 */
async function recordDeliveries(
  deps: Run,
  leak: Leak,
  outcomes: readonly Outcome[],
  lease: Leak["lease"],
): Promise<Leak> {
  let current = leak;
  const events = outcomes.flatMap((o) => o.events);
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.store.updateLeak(
        current,
        { deliveries: withOutcomes(current.deliveries, outcomes), ...(lease ? { lease } : {}) },
        events,
      );
    } catch (error) {
      // A claim that conflicts is no claim: the worker looks at the leak again (another may have told it).
      if (!(error instanceof ConflictError) || lease || attempt >= 3) throw error;
      const latest = await deps.store.getLeak(current.id);
      if (!latest || latest.lease?.holder !== deps.holder) throw error; // the lease was lost: stop
      current = latest;
    }
  }
}
