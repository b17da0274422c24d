import { useEffect, useMemo, useState } from "preact/hooks";
import { type ApiClient, api } from "../api-client";
import { LEAK_STATUSES, type LeakPage } from "../api-types";
import { ErrorAlert } from "../components/error-alert";
import { LeakTable } from "../components/leak-table";
import { exportLeaks } from "../export-leaks";
import { statusLabel } from "../format";
import { leaksHref, navigate } from "../router";
import { filtersFromUrl, filtersToApi, filtersToUrl, type LeakFilters } from "./leak-filters";

// GET /v1/admin/leaks with the filters the URL holds; newest first; cursor pages (a stack of the
// cursors seen, for "Previous").

const PAGE_SIZE = 25;

export function LeakListPage({ client, query }: { client: ApiClient; query: URLSearchParams }) {
  const urlKey = query.toString();
  const filters = useMemo(() => filtersFromUrl(new URLSearchParams(urlKey)), [urlKey]);
  // The cursors of the pages seen, for these filters only: new filters start again from the newest.
  const [paging, setPaging] = useState<{ key: string; cursors: (string | undefined)[] }>({
    key: urlKey,
    cursors: [undefined],
  });
  const cursors = paging.key === urlKey ? paging.cursors : [undefined];
  const setCursors = (change: (old: (string | undefined)[]) => (string | undefined)[]) =>
    setPaging({ key: urlKey, cursors: change(cursors) });
  // The page shown, with the query it answers: a page of other filters or another cursor is never shown.
  const [answer, setAnswer] = useState<{ key: string; page: LeakPage }>();
  const [error, setError] = useState<unknown>();
  const [exporting, setExporting] = useState<string>();

  const cursor = cursors.at(-1);
  const apiQuery = useMemo(() => {
    const q = filtersToApi(filters);
    q.set("limit", String(PAGE_SIZE));
    if (cursor) q.set("cursor", cursor);
    return q;
  }, [filters, cursor]);
  const pageKey = apiQuery.toString();
  const page = answer?.key === pageKey ? answer.page : undefined;
  useEffect(() => {
    let current = true;
    setError(undefined);
    api
      .leaks(client, new URLSearchParams(pageKey))
      .then((p) => current && setAnswer({ key: pageKey, page: p }))
      .catch((e: unknown) => current && setError(e));
    return () => {
      current = false;
    };
  }, [client, pageKey]);

  const runExport = async (format: "csv" | "jsonl") => {
    setError(undefined);
    setExporting(`Exporting ${format.toUpperCase()}…`);
    try {
      const { filename } = await exportLeaks(client, format, filtersToApi(filters), (n) =>
        setExporting(`Exporting ${format.toUpperCase()}: ${n} page${n === 1 ? "" : "s"}…`),
      );
      setExporting(`Saved ${filename}`);
    } catch (e) {
      setExporting(undefined);
      setError(e);
    }
  };

  return (
    <section aria-labelledby="leaks-title">
      <div class="page-head">
        <h1 id="leaks-title">Leaks</h1>
        <div class="actions">
          <button type="button" class="secondary" onClick={() => void runExport("csv")}>
            Export CSV
          </button>
          <button type="button" class="secondary" onClick={() => void runExport("jsonl")}>
            Export JSONL
          </button>
        </div>
      </div>
      <p class="muted" aria-live="polite">
        {exporting ?? ""}
      </p>
      <FilterForm key={urlKey} initial={filters} />
      <ErrorAlert error={error} />
      {!page && !error && <p aria-live="polite">Loading leaks…</p>}
      {page && (
        <>
          {page.partial && (
            <p class="muted">This page reached the search budget before filling up: more may follow.</p>
          )}
          {page.items.length ? (
            <LeakTable leaks={page.items} caption="Leaks matching the filters, newest first" />
          ) : (
            <p>No leak matches these filters{cursors.length > 1 ? " on this page" : ""}.</p>
          )}
          <nav class="pager" aria-label="Pages">
            <button
              type="button"
              class="secondary"
              disabled={cursors.length <= 1}
              onClick={() => setCursors((c) => c.slice(0, -1))}
            >
              Previous
            </button>
            <span>Page {cursors.length}</span>
            <button
              type="button"
              class="secondary"
              disabled={!page.next_cursor}
              onClick={() => page.next_cursor && setCursors((c) => [...c, page.next_cursor as string])}
            >
              Next
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

function FilterForm({ initial }: { initial: LeakFilters }) {
  const [f, setF] = useState(initial);
  const set = (change: Partial<LeakFilters>) => setF((old) => ({ ...old, ...change }));
  const value = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  return (
    <form
      class="filters"
      aria-label="Filters"
      onSubmit={(e) => {
        e.preventDefault();
        navigate(leaksHref(filtersToUrl(f)));
      }}
    >
      <fieldset class="statuses">
        <legend>Status</legend>
        {LEAK_STATUSES.map((status) => (
          <label class="check">
            <input
              type="checkbox"
              name="status"
              value={status}
              checked={f.statuses.includes(status)}
              onChange={(e) =>
                set({
                  statuses: (e.currentTarget as HTMLInputElement).checked
                    ? [...f.statuses, status]
                    : f.statuses.filter((s) => s !== status),
                })
              }
            />
            {statusLabel(status)}
          </label>
        ))}
      </fieldset>
      <div class="fields">
        <label>
          Token type
          <input
            type="text"
            name="token_type"
            value={f.tokenType}
            onInput={(e) => set({ tokenType: value(e) })}
          />
        </label>
        <label>
          Owner (email or id)
          <input type="text" name="owner" value={f.owner} onInput={(e) => set({ owner: value(e) })} />
        </label>
        <label>
          Fingerprint or preview
          <input
            type="search"
            name="q"
            value={f.search}
            placeholder="64 hex digits, or a preview like ghp_…wxyz"
            onInput={(e) => set({ search: value(e) })}
          />
        </label>
        <label>
          First seen from
          <input type="date" name="since" value={f.since} onInput={(e) => set({ since: value(e) })} />
        </label>
        <label>
          First seen until
          <input type="date" name="until" value={f.until} onInput={(e) => set({ until: value(e) })} />
        </label>
      </div>
      <div class="actions">
        <button type="submit">Apply filters</button>
        <button type="button" class="secondary" onClick={() => navigate(leaksHref(new URLSearchParams()))}>
          Clear
        </button>
      </div>
    </form>
  );
}
