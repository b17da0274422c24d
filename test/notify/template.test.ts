import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/errors.js";
import { compileTemplate } from "../../lib/notify/template.js";

const text = (source: string) => compileTemplate(source, { html: false });
const html = (source: string) => compileTemplate(source, { html: true });

/** Runs synchronous work with a deadline: a template that loops fails the test instead of hanging it. */
function within<T>(ms: number, work: () => T): T {
  return runInNewContext("work()", { work }, { timeout: ms }) as T;
}

function compileError(source: string, options: { html: boolean; name?: string }): ConfigError {
  try {
    compileTemplate(source, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.unreachable("the template should not compile");
}

describe("compileTemplate", () => {
  it("fills values, nested paths, lists and conditionals", () => {
    const render = text(
      "Hi {{name}}{{#if key.id}} ({{key.id}}){{/if}}:{{#each urls}} [{{.}}]{{/each}}{{#each rows}} {{a}}={{b}}{{/each}}{{#if missing}}X{{/if}}",
    );
    expect(render({ name: "Ann", key: { id: "k1" }, urls: ["u1", "u2"], rows: [{ a: 1, b: 2 }] })).toBe(
      "Hi Ann (k1): [u1] [u2] 1=2",
    );
  });

  it("renders the same template again and again with other values", () => {
    const render = text("{{#each xs}}{{this}};{{/each}}");
    expect(render({ xs: ["a", "b"] })).toBe("a;b;");
    expect(render({ xs: ["c"] })).toBe("c;");
    expect(render({})).toBe("");
  });

  it("prints the item itself with {{.}} and {{this}}, escaped in HTML only", () => {
    const source = "{{#each xs}}[{{.}}|{{this}}]{{/each}}";
    expect(text(source)({ xs: ["<b>", "&"] })).toBe("[<b>|<b>][&|&]");
    expect(html(source)({ xs: ["<b>", "&"] })).toBe("[&lt;b&gt;|&lt;b&gt;][&amp;|&amp;]");
  });

  it("escapes values in HTML templates, not in text ones", () => {
    const values = { url: `<script>"x"</script>&'=\`` };
    expect(html("{{url}}")(values)).toBe("&lt;script&gt;&quot;x&quot;&lt;/script&gt;&amp;&#x27;&#x3D;&#x60;");
    expect(text("{{url}}")(values)).toBe(`<script>"x"</script>&'=\``);
  });

  it("hides #if blocks for empty lists, empty strings and absent values, and repeats nothing for an empty list", () => {
    const render = text(
      "[{{#each xs}}x{{/each}}][{{#if xs}}y{{/if}}][{{#if s}}z{{/if}}][{{#if nope}}w{{/if}}][{{nope}}]",
    );
    expect(render({ xs: [], s: "" })).toBe("[][][][][]");
    expect(render({ xs: [1], s: "v" })).toBe("[x][y][z][][]");
  });

  it("prints a value holding template syntax as it is: a sighting URL is data, never template", () => {
    const url = "https://github.com/o/r/blob/main/{{admin_url}}/{{#if x}}y{{/if}}";
    const source = "{{#each sightings}}- {{url}}\n{{/each}}{{#if admin_url}}History: {{admin_url}}{{/if}}";
    const values = { sightings: [{ url }], admin_url: "https://admin.test/leak", x: true };
    expect(text(source)(values)).toBe(`- ${url}\nHistory: https://admin.test/leak`);
    expect(html(source)(values)).toBe(`- ${url}\nHistory: https://admin.test/leak`);
  });

  it("prints a key id holding its own block as it is, at once", () => {
    const keyId = "{{#if key_id}}{{key_id}}{{/if}}";
    const source = "Key{{#if key_id}} (key id {{key_id}}){{/if}}.";
    expect(within(1_000, () => text(source)({ key_id: keyId }))).toBe(`Key (key id ${keyId}).`);
    expect(within(1_000, () => html(source)({ key_id: keyId }))).toBe(`Key (key id ${keyId}).`);
  });

  it("does not read properties a value inherits (Handlebars' prototype access stays off)", () => {
    expect(text("[{{x.constructor}}][{{x.__proto__}}][{{x.own}}]")({ x: { own: "mine" } })).toBe(
      "[][][mine]",
    );
  });

  it("removes lines that hold only a block tag, with their line break", () => {
    const render = text("a\n{{#if x}}\nX\n{{/if}}\n{{#each xs}}\n- {{this}}\n{{/each}}\nb\n");
    expect(render({ x: true, xs: [1, 2] })).toBe("a\nX\n- 1\n- 2\nb\n");
    expect(render({ xs: [] })).toBe("a\nb\n");
  });

  it("prints nothing for a path through absent values (not strict)", () => {
    expect(text("[{{a.b.c}}]")({})).toBe("[]");
  });

  it("refuses, when compiled, a template that does not parse, naming it", () => {
    const error = compileError("{{#if x}}open", { html: false, name: "templates/broken.txt" });
    expect(error.message).toMatch(/^Template templates\/broken\.txt does not compile: Parse error on line 1/);
    expect(compileError("{{#if x}}a{{/each}}", { html: true }).message).toContain("if doesn't match each");
  });

  it("refuses helpers, partials and decorators Handlebars does not have built in", () => {
    expect(compileError("{{#if x}}{{shout name}}{{/if}}", { html: false }).message).toContain(
      "unknown helper shout",
    );
    expect(compileError("a\n{{#if x}}{{> footer}}{{/if}}", { html: false }).message).toContain(
      "partials ({{> name}}) are not supported (line 2)",
    );
    expect(compileError("{{#> layout}}x{{/layout}}", { html: false }).message).toContain("partials");
    expect(compileError("{{* deco}}", { html: false }).message).toContain("decorators");
    expect(compileError("{{#each}}x{{/each}}", { html: false }).message).toContain("Must pass iterator");
  });

  it("refuses unescaped values in HTML templates, allows them in text ones", () => {
    expect(compileError("<a href='{{{url}}}'>", { html: true }).message).toContain("unescaped values");
    expect(compileError("{{#if url}}{{& url}}{{/if}}", { html: true }).message).toContain("unescaped values");
    expect(text("{{{url}}}")({ url: "<x>" })).toBe("<x>");
  });
});
