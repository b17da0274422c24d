import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { type ApiClient, api } from "../api-client";
import type { LeakDetail } from "../api-types";
import { ErrorAlert } from "../components/error-alert";
import { ownerText } from "../components/leak-table";
import { Link } from "../components/link";
import { StatusBadge } from "../components/status-badge";
import { formatDuration, formatSince, formatTime, statusLabel } from "../format";
import { BASE, leakHref } from "../router";
import { evidenceFacts, lastUse, usageSeries } from "./evidence";
import { LeakActions } from "./leak-actions";
import { UsageChart } from "./usage-chart";

// One leak in full: GET /v1/admin/leaks/{id}.

const isWebUrl = (url: string) => /^https?:\/\//i.test(url);

export function LeakDetailPage({ client, id }: { client: ApiClient; id: string }) {
  const [leak, setLeak] = useState<LeakDetail>();
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();

  const load = useCallback(() => {
    let current = true;
    api
      .leak(client, id)
      .then((l) => current && setLeak(l))
      .catch((e: unknown) => current && setError(e));
    return () => {
      current = false;
    };
  }, [client, id]);
  useEffect(() => {
    setLeak(undefined);
    setError(undefined);
    setNotice(undefined);
    return load();
  }, [load]);

  return (
    <section aria-labelledby="leak-title">
      <p>
        <Link href={`${BASE}leaks`}>← All leaks</Link>
      </p>
      <ErrorAlert error={error} />
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {!leak && !error && <p aria-live="polite">Loading the leak…</p>}
      {leak && (
        <>
          <div class="page-head">
            <h1 id="leak-title">
              <span class="mono">{leak.preview}</span> <StatusBadge status={leak.status} />
            </h1>
            <LeakActions
              client={client}
              leak={leak}
              onDone={(message) => {
                setError(undefined);
                setNotice(message);
                load();
              }}
              onError={(e) => {
                setNotice(undefined);
                setError(e);
              }}
            />
          </div>
          <Summary leak={leak} />
          {leak.failure && (
            <section class="panel callout-bad" aria-labelledby="failure-title">
              <h2 id="failure-title">Failure</h2>
              <p>
                Step <strong>{leak.failure.step}</strong> failed at {formatTime(leak.failure.at)}:{" "}
                {leak.failure.reason}
              </p>
            </section>
          )}
          {leak.dismissal && (
            <section class="panel" aria-labelledby="dismissal-title">
              <h2 id="dismissal-title">Dismissal</h2>
              <p>
                Dismissed as <strong>{statusLabel(leak.dismissal.reason)}</strong> by {leak.dismissal.by} at{" "}
                {formatTime(leak.dismissal.at)}
                {leak.dismissal.note ? `: “${leak.dismissal.note}”` : "."}
              </p>
            </section>
          )}
          <div class="split">
            <Timeline leak={leak} />
            <div>
              <Evidence leak={leak} />
              <Deliveries leak={leak} />
              <Alerts leak={leak} />
            </div>
          </div>
          <Sightings leak={leak} />
        </>
      )}
    </section>
  );
}

function Fact({ term, children }: { term: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Summary({ leak }: { leak: LeakDetail }) {
  return (
    <dl class="facts panel">
      <Fact term="Leak id">
        <span class="mono">{leak.id}</span>
      </Fact>
      <Fact term="Token type">{leak.token_type}</Fact>
      <Fact term="Issuer">{leak.issuer ?? "—"}</Fact>
      <Fact term="Fingerprint">
        <span class="mono wrap">{leak.fingerprint}</span>
      </Fact>
      <Fact term="Key id">{leak.key_id ? <span class="mono">{leak.key_id}</span> : "—"}</Fact>
      <Fact term="Owner">{ownerText(leak.owner)}</Fact>
      <Fact term="First seen">{formatTime(leak.first_seen)}</Fact>
      <Fact term="Verified">{formatTime(leak.verified_at)}</Fact>
      <Fact term="Revoked">{formatTime(leak.revoked_at)}</Fact>
      <Fact term="Time to revoke">{formatDuration(leak.time_to_revoke_ms)}</Fact>
      <Fact term="Policy mode">{leak.mode ?? "—"}</Fact>
      <Fact term="Replacement key">
        {leak.replacement ? (
          <>
            <span class="mono">{leak.replacement.key_id}</span> (delivered by {leak.replacement.delivered_by})
          </>
        ) : (
          "—"
        )}
      </Fact>
      <Fact term="Notification">
        {leak.notification ? `${leak.notification.status} at ${formatTime(leak.notification.at)}` : "—"}
      </Fact>
      {leak.paired_with && (
        <Fact term="Paired with">
          <Link href={leakHref(leak.paired_with.leak_id)}>{leak.paired_with.token_type}</Link>
        </Fact>
      )}
    </dl>
  );
}

function Timeline({ leak }: { leak: LeakDetail }) {
  return (
    <section class="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      <ol class="timeline">
        {leak.timeline.map((event) => (
          <li class={`event event-${event.outcome}`} data-step={event.step}>
            <div class="event-head">
              <strong class="event-step">{event.step}</strong>
              <span class={`outcome outcome-${event.outcome}`}>{event.outcome}</span>
              <span class="event-actor">by {event.actor}</span>
            </div>
            <p class="event-detail">{event.detail}</p>
            <p class="event-time">
              <time dateTime={event.at}>{formatTime(event.at)}</time>{" "}
              <span class="muted">({formatSince(event.at, leak.first_seen)} after the report)</span>
            </p>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Evidence({ leak }: { leak: LeakDetail }) {
  // The issuer's own summary lines when it gave them, else the evidence's plain values.
  const facts = leak.key_details.length ? [] : evidenceFacts(leak.evidence);
  const series = usageSeries(leak.evidence);
  const used = lastUse(leak.evidence);
  if (!facts.length && !series.length && !leak.key_details.length && !used) return null;
  return (
    <section class="panel" aria-labelledby="evidence-title">
      <h2 id="evidence-title">Issuer's evidence</h2>
      <dl class="facts">
        <Fact term="Key id">{leak.key_id ?? "—"}</Fact>
        <Fact term="Owner">{ownerText(leak.owner)}</Fact>
        <Fact term="Last use">{used ? formatTime(used) : "not reported"}</Fact>
        {leak.key_details.map((d) => (
          <Fact term={d.label}>{d.value}</Fact>
        ))}
        {facts.map(([term, value]) => (
          <Fact term={term}>{value}</Fact>
        ))}
      </dl>
      {series.length > 0 && <UsageChart series={series} />}
    </section>
  );
}

function Deliveries({ leak }: { leak: LeakDetail }) {
  const byChannel = [...leak.deliveries].sort(
    (a, b) => a.channel.localeCompare(b.channel) || a.at.localeCompare(b.at),
  );
  return (
    <section class="panel" aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Notifications</h2>
      {byChannel.length === 0 ? (
        <p>No message was sent.</p>
      ) : (
        <table class="compact">
          <caption class="visually-hidden">Deliveries per channel</caption>
          <thead>
            <tr>
              <th scope="col">Channel</th>
              <th scope="col">Recipient</th>
              <th scope="col">Status</th>
              <th scope="col">At</th>
            </tr>
          </thead>
          <tbody>
            {byChannel.map((d) => (
              <tr>
                <th scope="row">{d.channel}</th>
                <td>{d.recipient}</td>
                <td>
                  {d.status}
                  {d.reason ? ` — ${d.reason}` : ""}
                </td>
                <td>{formatTime(d.at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Alerts({ leak }: { leak: LeakDetail }) {
  if (!leak.alerts.length) return null;
  return (
    <section class="panel" aria-labelledby="alerts-title">
      <h2 id="alerts-title">GitHub alerts</h2>
      <ul>
        {leak.alerts.map((a) => (
          <li>
            {a.repository} #{a.number}:{" "}
            {a.resolved
              ? `resolved as ${a.resolved.resolution} at ${formatTime(a.resolved.at)}`
              : a.left_open
                ? `left open (${a.left_open.outcome}): ${a.left_open.reason}`
                : "open"}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Sightings({ leak }: { leak: LeakDetail }) {
  return (
    <section class="panel" aria-labelledby="sightings-title">
      <h2 id="sightings-title">Sightings</h2>
      {leak.sightings.length === 0 ? (
        <p>No sighting recorded.</p>
      ) : (
        <table class="compact">
          <caption class="visually-hidden">Where the token was found</caption>
          <thead>
            <tr>
              <th scope="col">Where</th>
              <th scope="col">Source</th>
              <th scope="col">First seen</th>
              <th scope="col">Last seen</th>
              <th scope="col" class="num">
                Reports
              </th>
            </tr>
          </thead>
          <tbody>
            {leak.sightings.map((s) => (
              <tr>
                <td class="wrap">
                  {isWebUrl(s.url) ? (
                    <a href={s.url} target="_blank" rel="noopener noreferrer">
                      {s.url}
                    </a>
                  ) : (
                    s.url || "(no url)"
                  )}
                </td>
                <td>{s.source}</td>
                <td>{formatTime(s.first_seen)}</td>
                <td>{formatTime(s.last_seen)}</td>
                <td class="num">{s.reports}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {leak.sightings_next_cursor && (
        <p class="muted">More sightings exist than this page shows (the API pages them).</p>
      )}
    </section>
  );
}
