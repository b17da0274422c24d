import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/errors.js";
import { loadTemplates, renderLeakMessage } from "../../lib/notify/render-leak-message.js";
import { makeLeakFacts } from "../helpers/leak-message.js";

const owner = { role: "owner", email: "owner@example.test", name: "Demo Owner" } as const;
const templates = loadTemplates();

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A templates folder holding the repository's two files, with `files` written over them. */
function templatesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "tq-templates-"));
  dirs.push(dir);
  for (const name of ["leak-notification.txt", "leak-notification.html"]) {
    writeFileSync(join(dir, name), readFileSync(new URL(`../../templates/${name}`, import.meta.url)));
  }
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
  return dir;
}

function loadError(dir: string): ConfigError {
  try {
    loadTemplates(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.unreachable("the templates should not load");
}

describe("renderLeakMessage with the repository's templates", () => {
  it("writes the owner's text message", () => {
    const facts = makeLeakFacts({ replacement: { keyId: "key_new", where: "Secrets Manager prod/app" } });
    expect(renderLeakMessage(facts, owner, "email", templates).text).toBe(
      [
        "Hello Demo Owner,",
        "",
        "Your tourniquet_sandbox_token key tqs_…9f2a was found in public. We revoked it 216 ms after it was reported and confirmed with its issuer that it no longer works.",
        "",
        "What leaked",
        "  Type:    tourniquet_sandbox_token",
        "  Key:     tqs_…9f2a (key id key_9c65e584417efae7f813f62d)",
        "  Status:  revoked at 2026-01-01T00:00:00.216Z",
        "",
        "Where it was found",
        "  - https://github.com/example/demo/blob/main/.env (github, first seen 2026-01-01T00:00:00.000Z)",
        "",
        "What Tourniquet did",
        "  - 2026-01-01T00:00:00.050Z  verify: issuer reports the key live",
        "  - 2026-01-01T00:00:00.180Z  revoke: issuer sandbox revoked the key",
        "",
        "Your replacement key",
        "  key_new: Secrets Manager prod/app",
        "",
        "What to do next",
        "  - Create a new key and update every application and secret store that used the old one.",
        "  - Remove the key from the places listed above and from your repository history.",
        "",
        "Full history: https://tourniquet.example.test/admin/leaks/lk_6897aab7941b3bbd1d62e960",
        "Leak id: lk_6897aab7941b3bbd1d62e960",
        "",
        "— Tourniquet, on behalf of your API provider's security team",
        "",
      ].join("\n"),
    );
  });

  it("asks to delete, not rotate, a live credential no API can revoke (a Slack incoming webhook)", () => {
    const hook = renderLeakMessage(
      makeLeakFacts({ status: "notified", tokenType: "slack_incoming_webhook_url", mode: "notify_only" }),
      owner,
      "email",
      templates,
    );
    expect(hook.subject).toMatch(/leaked: delete it now$/);
    expect(hook.text).toContain("Slack offers no way to revoke it for you");
    const key = renderLeakMessage(
      makeLeakFacts({ status: "notified", tokenType: "acme_api_key", mode: "notify_only" }),
      owner,
      "email",
      templates,
    );
    expect(key.subject).toMatch(/leaked: rotate it now$/);
  });

  it("leaves out empty lists' items, the replacement and the history link when there are none", () => {
    const facts = makeLeakFacts({
      status: "failed",
      sightings: [],
      actions: [],
      details: [],
      nextSteps: [],
      adminUrl: undefined,
    });
    const { text } = renderLeakMessage(facts, owner, "email", templates);
    expect(text).toContain(
      "Where it was found\n\nWhat Tourniquet did\n\nWhat to do next\n\nLeak id: lk_6897aab7941b3bbd1d62e960\n",
    );
  });

  it("prints a sighting URL and a key id holding template syntax as they are", () => {
    const url = "https://github.com/o/r/blob/main/{{admin_url}}/{{#if x}}.env{{/if}}";
    const keyId = "{{#if key_id}}{{key_id}}{{/if}}";
    const facts = makeLeakFacts({ keyId, sightings: [{ url, source: "content", firstSeen: "t1" }] });
    const message = renderLeakMessage(facts, owner, "email", templates);
    expect(message.text).toContain(`  - ${url} (content, first seen t1)\n`);
    expect(message.text).toContain(`(key id ${keyId})`);
    expect(message.html).toContain(`<a href="${url}">${url}</a>`);
    expect(message.html).toContain(`(key id <code>${keyId}</code>)`);
  });

  it("escapes values in the HTML message only", () => {
    const facts = makeLeakFacts({ replacement: { keyId: "key_new", where: "Vault <prod> & co" } });
    const message = renderLeakMessage(facts, owner, "email", templates);
    expect(message.text).toContain("  key_new: Vault <prod> & co\n");
    expect(message.html).toContain("<code>key_new</code>: Vault &lt;prod&gt; &amp; co</p>");
  });

  it("links only web addresses: a reported javascript: or data: URL, or none, is printed, not linked", () => {
    const at = "2026-01-01T00:00:00.000Z";
    const facts = makeLeakFacts({
      sightings: [
        { url: "https://github.com/o/r/blob/main/.env", source: "commit", firstSeen: at },
        { url: "javascript:alert(document.cookie)", source: "commit", firstSeen: at },
        { url: "data:text/html,<script>x</script>", source: "commit", firstSeen: at },
        { url: "", source: "commit", firstSeen: at },
      ],
    });
    const { html } = renderLeakMessage(facts, owner, "email", templates);
    const links = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    expect(links).toContain("https://github.com/o/r/blob/main/.env");
    expect(links.some((href) => /javascript|data:|no url/i.test(href ?? ""))).toBe(false);
    expect(html).toContain("<li>javascript:alert(document.cookie) (commit");
    expect(html).toContain("<li>(no url given) (commit");
  });
});

describe("loadTemplates", () => {
  it("loads a folder of the team's own", () => {
    const dir = templatesDir({ "leak-notification.txt": "Key {{preview}} of {{recipient_name}}\n" });
    const message = renderLeakMessage(makeLeakFacts(), owner, "email", loadTemplates(dir));
    expect(message.text).toBe("Key tqs_…9f2a of Demo Owner\n");
    expect(message.html).toContain("<p>Hello Demo Owner,</p>");
  });

  it("refuses a template that does not compile, naming the file", () => {
    const dir = templatesDir({ "leak-notification.html": "<p>{{#if admin_url}}<a>history</a></p>\n" });
    expect(loadError(dir).message).toContain(
      `Template ${dir}/leak-notification.html does not compile: Parse error on line 2`,
    );
  });

  it("refuses a folder without the templates, naming the missing file", () => {
    const dir = mkdtempSync(join(tmpdir(), "tq-templates-"));
    dirs.push(dir);
    expect(loadError(dir).message).toBe(`Template ${dir}/leak-notification.txt cannot be read`);
  });
});
