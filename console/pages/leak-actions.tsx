import { useState } from "preact/hooks";
import { DISMISSABLE_STATUSES } from "../../lib/admin/dismiss-reasons.js";
import { type ApiClient, api } from "../api-client";
import { DISMISSAL_REASONS, type LeakDetail } from "../api-types";
import { ConfirmDialog } from "../components/confirm-dialog";
import { statusLabel } from "../format";

// Retry and dismiss, each behind a confirmation. The API decides (409 when the leak's state does not
// allow it); the buttons are offered where it usually does.

const RETRYABLE = new Set(["failed", "false_positive", "unroutable"]);
const DISMISSABLE = new Set<string>(DISMISSABLE_STATUSES);

export function LeakActions(props: {
  client: ApiClient;
  leak: LeakDetail;
  onDone: (message: string) => void;
  onError: (error: unknown) => void;
}) {
  const { leak } = props;
  const [open, setOpen] = useState<"retry" | "dismiss">();
  const [busy, setBusy] = useState(false);
  const [reason, setReason] = useState<string>(DISMISSAL_REASONS[0]);
  const [note, setNote] = useState("");

  const act = async (run: () => Promise<string>) => {
    setBusy(true);
    try {
      props.onDone(await run());
      setOpen(undefined);
    } catch (error) {
      setOpen(undefined);
      props.onError(error);
    } finally {
      setBusy(false);
    }
  };

  if (!RETRYABLE.has(leak.status) && !DISMISSABLE.has(leak.status)) return null;
  return (
    <div class="actions">
      {RETRYABLE.has(leak.status) && (
        <button type="button" onClick={() => setOpen("retry")}>
          Retry
        </button>
      )}
      {DISMISSABLE.has(leak.status) && (
        <button type="button" class="secondary" onClick={() => setOpen("dismiss")}>
          Dismiss
        </button>
      )}
      <ConfirmDialog
        open={open === "retry"}
        title="Retry this leak?"
        confirmLabel="Retry"
        busy={busy}
        onCancel={() => setOpen(undefined)}
        onConfirm={() =>
          void act(async () => {
            const result = await api.retry(props.client, leak.id);
            return result.retried ? "Retry queued." : "Nothing to retry: the leak was left as it is.";
          })
        }
      >
        <p>
          {leak.status === "failed"
            ? `The worker resumes from the step that failed (${leak.failure?.step ?? "unknown"}).`
            : `The token is verified again with its issuer (it is ${statusLabel(leak.status)} now).`}
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={open === "dismiss"}
        title="Dismiss this leak?"
        confirmLabel="Dismiss"
        busy={busy}
        onCancel={() => setOpen(undefined)}
        onConfirm={() =>
          void act(async () => {
            await api.dismiss(props.client, leak.id, reason, note.trim());
            return "Leak dismissed.";
          })
        }
      >
        <p>The leak is closed with your reason; the timeline records who dismissed it.</p>
        <label for="dismiss-reason">Reason</label>
        <select
          id="dismiss-reason"
          value={reason}
          onChange={(e) => setReason((e.currentTarget as HTMLSelectElement).value)}
        >
          {DISMISSAL_REASONS.map((r) => (
            <option value={r}>{statusLabel(r)}</option>
          ))}
        </select>
        <label for="dismiss-note">Note (optional)</label>
        <textarea
          id="dismiss-note"
          rows={3}
          maxLength={1000}
          value={note}
          onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </ConfirmDialog>
    </div>
  );
}
