import { useEffect, useMemo, useState } from "preact/hooks";
import { type ApiClient, api } from "../api-client";
import type { LeakStatus, Overview } from "../api-types";
import { ErrorAlert } from "../components/error-alert";
import { LeakTable } from "../components/leak-table";
import { Link } from "../components/link";
import { StatusBadge } from "../components/status-badge";
import { formatCount, formatDuration, formatTime, isoDay } from "../format";
import { leaksHref } from "../router";
import { RevokeHistogram, StatusByDayChart } from "./overview-charts";

// What leaked, what was done, how fast, and what still needs a human: GET /v1/admin/overview.

const WINDOWS = [7, 30, 90] as const;
let renderedMarked = false;

const listOf = (entries: Record<string, string | string[]>) => {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(entries))
    for (const v of Array.isArray(value) ? value : [value]) query.append(name, v);
  return leaksHref(query);
};

export function OverviewPage({ client, query }: { client: ApiClient; query: URLSearchParams }) {
  const days = Number(query.get("days")) || 30;
  const [overview, setOverview] = useState<Overview>();
  const [error, setError] = useState<unknown>();
  const [tokenType, setTokenType] = useState("all");

  useEffect(() => {
    let current = true;
    setError(undefined);
    const since = isoDay(new Date(Date.now() - (days - 1) * 86_400_000));
    api
      .overview(client, new URLSearchParams({ since }))
      .then((o) => current && setOverview(o))
      .catch((e: unknown) => current && setError(e));
    return () => {
      current = false;
    };
  }, [client, days]);

  // The bench waits for this mark: the figures and charts are on screen (charts draw in layout effects).
  useEffect(() => {
    if (overview && !renderedMarked) {
      renderedMarked = true;
      performance.mark("tq:overview-rendered");
    }
  }, [overview]);

  const times = useMemo(
    () =>
      overview?.time_to_revoke.find((t) => t.token_type === tokenType) ??
      overview?.time_to_revoke.find((t) => t.token_type === "all"),
    [overview, tokenType],
  );

  return (
    <section aria-labelledby="overview-title">
      <div class="page-head">
        <h1 id="overview-title">Overview</h1>
        <form class="inline-form" onSubmit={(e) => e.preventDefault()}>
          <label for="window">Window</label>
          <select
            id="window"
            value={String(days)}
            onChange={(e) => {
              const next = new URLSearchParams({ days: (e.currentTarget as HTMLSelectElement).value });
              history.replaceState(null, "", `?${next}`);
              window.dispatchEvent(new Event("tq:route"));
            }}
          >
            {WINDOWS.map((d) => (
              <option value={String(d)}>last {d} days</option>
            ))}
          </select>
        </form>
      </div>
      <ErrorAlert error={error} />
      {!overview && !error && <p aria-live="polite">Loading the overview…</p>}
      {overview && (
        <>
          <p class="muted">
            {formatTime(overview.window.since)} to {formatTime(overview.window.until)}
            {overview.partial &&
              " — partial: the window holds more leaks than the overview reads; figures cover the newest."}
          </p>
          <section aria-labelledby="attention-title" class="cards">
            <h2 id="attention-title" class="visually-hidden">
              Needs attention
            </h2>
            <Card
              label="Leaks in window"
              value={overview.total}
              href={listOf({ since: overview.window.since.slice(0, 10) })}
            />
            <Card
              label="Failed"
              value={overview.attention.failed}
              href={listOf({ status: "failed" })}
              tone="bad"
            />
            <Card
              label="Unroutable"
              value={overview.attention.unroutable}
              href={listOf({ status: "unroutable" })}
              tone="warn"
            />
            <Card
              label={`Stalled (open > ${formatDuration(overview.attention.stalled_after_ms)})`}
              value={overview.attention.stalled}
              href={listOf({
                status: ["pending", "active"],
                until: new Date(
                  Date.parse(overview.generated_at) - overview.attention.stalled_after_ms,
                ).toISOString(),
              })}
              tone="warn"
            />
            <Card label="Notification failed" value={overview.attention.notification_failed} tone="warn" />
          </section>

          <section aria-labelledby="by-day-title" class="panel">
            <h2 id="by-day-title">Leaks by status over time</h2>
            <StatusByDayChart byDay={overview.by_day} />
            <ul class="status-counts" aria-label="Leaks by status in the window">
              {Object.entries(overview.by_status)
                .filter(([, n]) => (n ?? 0) > 0)
                .map(([status, n]) => (
                  <li>
                    <Link href={listOf({ status })} class="status-link">
                      <StatusBadge status={status as LeakStatus} />{" "}
                      <span class="count">{formatCount(n ?? 0)}</span>
                    </Link>
                  </li>
                ))}
            </ul>
          </section>

          <section aria-labelledby="ttr-title" class="panel">
            <h2 id="ttr-title">Time to revoke</h2>
            {overview.time_to_revoke.length === 0 ? (
              <p>No leak was revoked in this window.</p>
            ) : (
              <div class="split">
                <table>
                  <caption class="visually-hidden">Time to revoke per token type</caption>
                  <thead>
                    <tr>
                      <th scope="col">Token type</th>
                      <th scope="col" class="num">
                        Revoked
                      </th>
                      <th scope="col" class="num">
                        Median
                      </th>
                      <th scope="col" class="num">
                        p90
                      </th>
                      <th scope="col" class="num">
                        p99
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {overview.time_to_revoke.map((t) => (
                      <tr data-token-type={t.token_type}>
                        <th scope="row">{t.token_type}</th>
                        <td class="num">{formatCount(t.count)}</td>
                        <td class="num">{formatDuration(t.median_ms)}</td>
                        <td class="num">{formatDuration(t.p90_ms)}</td>
                        <td class="num">{formatDuration(t.p99_ms)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <div>
                  <label for="ttr-type">Distribution for</label>{" "}
                  <select
                    id="ttr-type"
                    value={times?.token_type}
                    onChange={(e) => setTokenType((e.currentTarget as HTMLSelectElement).value)}
                  >
                    {overview.time_to_revoke.map((t) => (
                      <option value={t.token_type}>{t.token_type}</option>
                    ))}
                  </select>
                  {times && <RevokeHistogram times={times} />}
                </div>
              </div>
            )}
          </section>

          <section aria-labelledby="slowest-title" class="panel">
            <h2 id="slowest-title">Slowest recent remediations</h2>
            {overview.slowest.length ? (
              <LeakTable leaks={overview.slowest} caption="The slowest revocations in the window" />
            ) : (
              <p>None in this window.</p>
            )}
          </section>
        </>
      )}
    </section>
  );
}

function Card(props: { label: string; value: number; href?: string; tone?: "bad" | "warn" }) {
  const body = (
    <>
      <span class="card-value">{formatCount(props.value)}</span>
      <span class="card-label">{props.label}</span>
    </>
  );
  return (
    <div class={`card${props.tone && props.value > 0 ? ` card-${props.tone}` : ""}`} data-card={props.label}>
      {props.href ? (
        <Link href={props.href} class="card-link">
          {body}
        </Link>
      ) : (
        body
      )}
    </div>
  );
}
