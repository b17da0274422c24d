import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { buildConsole, bundleConsole } from "../../lib/console/build-console.js";

// The console as esbuild bundles it: a page, hashed assets, nothing inline (the CSP forbids it),
// nothing from elsewhere, and small enough.

const outdir = mkdtempSync(join(tmpdir(), "tq-console-build-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("buildConsole", () => {
  it("writes index.html and hashed assets that the page names", async () => {
    await buildConsole(outdir);
    const html = readFileSync(join(outdir, "index.html"), "utf8");
    const assets = readdirSync(join(outdir, "assets"));
    expect(assets.every((name) => /^[\w]+-[A-Z0-9]{8}\.(js|css)$/.test(name))).toBe(true);
    const referenced = [...html.matchAll(/(?:src|href)="\/admin\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(referenced.length).toBe(2);
    for (const path of referenced) expect(assets).toContain(path?.slice("assets/".length));
    // No inline script or style, nothing from another origin.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style=/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("loads the overview in under 300 KB gzipped, the OIDC client only when signing in with OIDC", async () => {
    const { files, initial } = await bundleConsole();
    const gzipped = initial.reduce((sum, path) => sum + gzipSync(files.get(path) as Uint8Array).length, 0);
    expect(gzipped).toBeLessThan(300 * 1024);
    const lazy = [...files.keys()].filter((path) => !initial.includes(path));
    expect(lazy.some((path) => /^assets\/oidc-/.test(path))).toBe(true);
    const bundle = initial.map((path) => new TextDecoder().decode(files.get(path))).join("\n");
    expect(bundle).not.toMatch(/\bfonts\.googleapis|cdn\.jsdelivr|unpkg\.com/);
  });
});
