// The admin API's JSON as the console reads it (README "Routes"; issue 14's contracts 1–3).

import { DISMISS_REASONS } from "../lib/admin/dismiss-reasons.js";
import { LEAK_STATUSES, type LeakStatus } from "../lib/store/leak-statuses.js";

export { LEAK_STATUSES, type LeakStatus };
export const DISMISSAL_REASONS = DISMISS_REASONS;
export type DismissalReason = (typeof DISMISSAL_REASONS)[number];

export interface Owner {
  id?: string;
  email?: string;
  name?: string;
}

export interface LeakItem {
  id: string;
  fingerprint: string;
  token_type: string;
  preview: string;
  issuer: string | null;
  status: LeakStatus;
  key_id: string | null;
  owner: Owner | null;
  first_seen: string;
  verified_at: string | null;
  revoked_at: string | null;
  time_to_revoke_ms: number | null;
  mode: string | null;
  replacement: { key_id: string; delivered_by: string; where: string; at: string } | null;
  notification: { status: string; at: string } | null;
  failure: { step: string; reason: string; at: string } | null;
  dismissal: { reason: string; note?: string; by: string; at: string } | null;
  paired_with: { leak_id: string; token_type: string } | null;
}

export interface TimelineEvent {
  at: string;
  step: string;
  outcome: "ok" | "failed" | "retrying" | "skipped";
  actor: string;
  detail: string;
  data?: Record<string, unknown>;
}

export interface LeakDetail extends LeakItem {
  evidence: Record<string, unknown> | null;
  key_details: { label: string; value: string }[];
  deliveries: {
    id: string;
    channel: string;
    recipient: string;
    status: string;
    at: string;
    reason: string | null;
  }[];
  alerts: {
    repository: string;
    number: number;
    resolved: { resolution: string; at: string } | null;
    left_open: { outcome: string; reason: string; at: string } | null;
  }[];
  sightings: { url: string; source: string; first_seen: string; last_seen: string; reports: number }[];
  sightings_next_cursor: string | null;
  timeline: TimelineEvent[];
}

export interface LeakPage {
  items: LeakItem[];
  next_cursor: string | null;
  partial?: true;
}

export interface RevokeTimes {
  token_type: string;
  count: number;
  median_ms: number;
  p90_ms: number;
  p99_ms: number;
  histogram: { le_ms: number | null; count: number }[];
}

export interface Overview {
  generated_at: string;
  window: { since: string; until: string };
  total: number;
  by_status: Partial<Record<LeakStatus, number>>;
  by_day: { day: string; counts: Partial<Record<LeakStatus, number>> }[];
  time_to_revoke: RevokeTimes[];
  attention: {
    failed: number;
    unroutable: number;
    stalled: number;
    stalled_after_ms: number;
    notification_failed: number;
  };
  slowest: LeakItem[];
  partial?: true;
}

export interface ApiErrorBody {
  error: string;
  message: string;
}
