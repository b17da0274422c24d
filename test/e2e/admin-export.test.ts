import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPORT_COLUMNS } from "../../lib/admin/leak-export.js";
import type { Leak } from "../../lib/store/leak.js";
import { seedLeaks } from "../../local/seed-leaks.js";
import { SANDBOX_TYPE, startTestStack, type TestStack } from "../helpers/test-stack.js";

// The export through the local stack's server, as a client downloads it: answer after answer by the
// Link header, each a bounded page (lowered here so a few hundred leaks take many answers).

const NOW = Date.now();
const MAX_ROWS = 40;

let t: TestStack;
let seeded: Leak[];
const tokens: string[] = [];
const NOTE = 'said "rotate later", then, at last,\nrotated; =HYPERLINK("x")';

beforeAll(async () => {
  t = await startTestStack({ adminExportLimits: { maxRows: MAX_ROWS, pageSize: 15 } });
  seeded = await seedLeaks(t.stack.store, { count: 250, days: 10, now: NOW - 60_000, seed: 21 });
  // Real reports too: their tokens must appear nowhere in an export; one is reported at two places.
  for (let i = 0; i < 2; i++) tokens.push((await t.issueKey()).token);
  await t.report([
    { token: tokens[0], type: SANDBOX_TYPE, url: "=cmd|' /C calc'!A0", source: "commit" },
    {
      token: tokens[1],
      type: SANDBOX_TYPE,
      url: "https://github.com/acme/web/blob/1/.env",
      source: "commit",
    },
  ]);
  await t.report([
    { token: tokens[0], type: SANDBOX_TYPE, url: "https://gist.github.com/x/1", source: "gist" },
  ]);
  await t.stack.queue.drain();
  const dismissible = seeded.find((l) => l.status === "false_positive") as Leak;
  const stored = (await t.stack.store.getLeak(dismissible.id)) as Leak;
  await t.stack.store.updateLeak(
    stored,
    {
      status: "dismissed",
      dismissal: { reason: "accepted_risk", note: NOTE, by: "admin-token", at: stored.firstSeen },
    },
    [],
  );
});
afterAll(() => t.close());

/** Every answer of an export, following Link rel="next" from `path`. */
async function download(path: string) {
  const answers: { status: number; headers: Headers; body: string }[] = [];
  let next: string | undefined = path;
  while (next && answers.length < 100) {
    const response = await t.admin(next);
    answers.push({ status: response.status, headers: response.headers, body: await response.text() });
    const link = response.headers.get("link");
    next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
  }
  return answers;
}

const parseCsv = (text: string): Record<string, string>[] => parse(text, { columns: true });

describe("GET /v1/admin/leaks/export", () => {
  it("pages CSV across answers: the header once, every leak exactly once, newest first", async () => {
    const answers = await download("/v1/admin/leaks/export?format=csv");
    const total = seeded.length + 2;
    expect(answers.length).toBe(Math.ceil(total / MAX_ROWS));
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      expect(answer.headers.get("content-disposition")).toBe(
        `attachment; filename="tourniquet-leaks-${new Date().toISOString().slice(0, 10)}.csv"`,
      );
      const last = i === answers.length - 1;
      expect(answer.headers.get("x-next-cursor") === null).toBe(last);
      if (!last)
        expect(answer.headers.get("link")).toContain(`cursor=${answer.headers.get("x-next-cursor")}`);
      expect(answer.body.startsWith("id,first_seen,")).toBe(i === 0);
    }
    const whole = answers.map((a) => a.body).join("");
    const rows = parseCsv(whole);
    expect(Object.keys(rows[0] ?? {})).toEqual([...EXPORT_COLUMNS]);
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.id)).size).toBe(total);
    const order = rows.map((r) => `${r.first_seen}#${r.id}`);
    expect(order).toEqual([...order].sort().reverse());
    for (const leak of seeded) expect(rows.some((r) => r.id === leak.id)).toBe(true);
  });

  it("writes the columns from the leak, quoting commas, quotes and newlines, and defusing formulas", async () => {
    const answers = await download("/v1/admin/leaks/export?format=csv&status=dismissed");
    const body = answers.map((a) => a.body).join("");
    const rows = parseCsv(body);
    const dismissed = rows.find(
      (r) => r.dismissal_reason === "accepted_risk" && r.dismissal_note?.includes("rotate later"),
    );
    expect(dismissed?.dismissal_note).toBe(NOTE);
    expect(body).toContain('"said ""rotate later"", then, at last,\nrotated; =HYPERLINK(""x"")"');
    expect(rows.every((r) => r.status === "dismissed")).toBe(true);

    const revoked = seeded.find((l) => l.status === "revoked" && l.replacement) as Leak;
    const [row] = parseCsv(
      (await download(`/v1/admin/leaks/export?fingerprint=${revoked.fingerprint}`))
        .map((a) => a.body)
        .join(""),
    );
    expect(row).toEqual({
      id: revoked.id,
      first_seen: revoked.firstSeen,
      token_type: revoked.tokenType,
      status: "revoked",
      preview: revoked.preview,
      fingerprint: revoked.fingerprint,
      issuer: revoked.issuer,
      key_id: revoked.keyId,
      owner: revoked.owner?.email ?? revoked.owner?.id,
      verified_at: revoked.verifiedAt,
      revoked_at: revoked.revokedAt,
      time_to_revoke_ms: String(revoked.timeToRevokeMs),
      mode: "revoke_and_rotate",
      replacement_key_id: revoked.replacement?.keyId,
      notification_status: revoked.notification?.status,
      failure_step: revoked.failure?.step ?? "",
      failure_reason: revoked.failure?.reason ?? "",
      dismissal_reason: "",
      dismissal_note: "",
      dismissed_by: "",
      sightings: String(revoked.firstSightings?.length),
      first_url: revoked.firstSightings?.[0]?.url,
    });
  });

  it("counts a leak's places over its reports and names the first, defused when it looks like a formula", async () => {
    const rows = parseCsv(
      (
        await download(
          `/v1/admin/leaks/export?token_type=${SANDBOX_TYPE}&since=${new Date(NOW).toISOString().slice(0, 10)}`,
        )
      )
        .map((a) => a.body)
        .join(""),
    );
    const twice = rows.find((r) => r.sightings === "2");
    expect(twice?.first_url).toBe("'=cmd|' /C calc'!A0");
    expect(rows.find((r) => r.first_url === "https://github.com/acme/web/blob/1/.env")?.sightings).toBe("1");
  });

  it("gives JSON Lines of the list's items, with the list's filters", async () => {
    const query = `status=failed,unroutable&since=${new Date(NOW - 5 * 86_400_000).toISOString().slice(0, 10)}`;
    const answers = await download(`/v1/admin/leaks/export?format=jsonl&${query}`);
    expect(answers[0]?.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    expect(answers[0]?.headers.get("content-disposition")).toMatch(
      /filename="tourniquet-leaks-\d{4}-\d{2}-\d{2}\.jsonl"/,
    );
    const lines = answers.flatMap((a) => a.body.split("\n").filter(Boolean)).map((l) => JSON.parse(l));
    const listed: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await t.admin(`/v1/admin/leaks?${query}&limit=100${cursor ? `&cursor=${cursor}` : ""}`)
      ).json()) as { items: unknown[]; next_cursor: string | null };
      listed.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines).toEqual(listed);
    expect(new Set(lines.map((l) => l.status))).toEqual(new Set(["failed", "unroutable"]));
  });

  it("holds no raw token in any format", async () => {
    for (const format of ["csv", "jsonl"]) {
      const all = (await download(`/v1/admin/leaks/export?format=${format}`)).map((a) => a.body).join("");
      for (const token of tokens) expect(all).not.toContain(token);
      expect(all).toContain("tqs_…"); // canary: the reported leaks are in it, by preview
    }
  });

  it.each([
    ["/v1/admin/leaks/export?format=xlsx", 400, "format"],
    ["/v1/admin/leaks/export?status=revoked,nope", 400, "status"],
    ["/v1/admin/leaks/export?since=2025-02-30", 400, "since"],
    ["/v1/admin/leaks/export?limit=10", 400, "limit"],
    ["/v1/admin/leaks/export?cursor=bm9wZQ", 400, "cursor"],
  ])("refuses %s with %i naming the parameter", async (path, status, name) => {
    const response = await t.admin(path);
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: string; message: string };
    expect(body.error).toBe("bad_request");
    expect(body.message).toContain(name);
  });

  it("refuses a cursor from another export's filters", async () => {
    const [first] = await download("/v1/admin/leaks/export?status=revoked").then((a) => a.slice(0, 1));
    const cursor = first?.headers.get("x-next-cursor");
    const response = await t.admin(`/v1/admin/leaks/export?status=failed&cursor=${cursor}`);
    expect(response.status).toBe(400);
  });

  it("needs the admin token", async () => {
    expect((await t.admin("/v1/admin/leaks/export", "")).status).toBe(401);
    expect((await t.admin("/v1/admin/leaks/export", "wrong")).status).toBe(401);
    expect((await t.admin("/v1/admin/overview", "")).status).toBe(401);
  });
});

describe("GET /v1/admin/overview through the server", () => {
  it("answers the contract's shape over the seeded leaks", async () => {
    const response = await t.admin("/v1/admin/overview");
    expect(response.status).toBe(200);
    const o = (await response.json()) as Record<string, unknown> & { by_day: unknown[]; total: number };
    expect(Object.keys(o).sort()).toEqual(
      [
        "attention",
        "by_day",
        "by_status",
        "generated_at",
        "slowest",
        "time_to_revoke",
        "total",
        "window",
      ].sort(),
    );
    expect(o.total).toBe(seeded.length + 2);
    expect(o.by_day).toHaveLength(30);
    expect((await t.admin("/v1/admin/overview?since=tomorrow")).status).toBe(400);
  });
});
