import type { ApiClient } from "./api-client";

// "Export CSV / JSONL": the export route answers a page at a time (X-Next-Cursor); the pages are
// fetched with the bearer credential, joined, and saved as one file through a Blob.

const MAX_PAGES = 10_000;

export async function exportLeaks(
  client: ApiClient,
  format: "csv" | "jsonl",
  filters: URLSearchParams,
  onProgress: (pages: number) => void = () => {},
): Promise<{ filename: string; bytes: number }> {
  const parts: BlobPart[] = [];
  let filename = `tourniquet-leaks.${format}`;
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query = new URLSearchParams(filters);
    query.delete("limit");
    query.set("format", format);
    if (cursor) query.set("cursor", cursor);
    const response = await client.fetch("/leaks/export", query);
    if (pages === 0) filename = filenameOf(response.headers.get("content-disposition")) ?? filename;
    const text = await response.text();
    // Pages join line by line, whatever the last one ended with.
    parts.push(text && !text.endsWith("\n") ? `${text}\n` : text);
    cursor = response.headers.get("x-next-cursor");
    onProgress(++pages);
  } while (cursor && pages < MAX_PAGES);
  const blob = new Blob(parts, { type: format === "csv" ? "text/csv" : "application/x-ndjson" });
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = filename;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { filename, bytes: blob.size };
}

function filenameOf(disposition: string | null): string | undefined {
  const name = /filename="([^"]+)"/.exec(disposition ?? "")?.[1];
  // Only a plain file name: nothing that could name a folder.
  return name && /^[\w.-]+$/.test(name) ? name : undefined;
}
