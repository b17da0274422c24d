import { describe, expect, it } from "vitest";
import { renderTemplate } from "../../lib/notify/template.js";

describe("renderTemplate", () => {
  it("fills values, nested paths, lists and conditionals", () => {
    const out = renderTemplate(
      "Hi {{name}}{{#if key.id}} ({{key.id}}){{/if}}:{{#each urls}} [{{.}}]{{/each}}{{#each rows}} {{a}}={{b}}{{/each}}{{#if missing}}X{{/if}}",
      { name: "Ann", key: { id: "k1" }, urls: ["u1", "u2"], rows: [{ a: 1, b: 2 }] },
      { html: false },
    );
    expect(out).toBe("Hi Ann (k1): [u1] [u2] 1=2");
  });

  it("escapes values in HTML templates, not in text ones", () => {
    const values = { url: '<script>"x"</script>&' };
    expect(renderTemplate("{{url}}", values, { html: true })).toBe(
      "&lt;script&gt;&quot;x&quot;&lt;/script&gt;&amp;",
    );
    expect(renderTemplate("{{url}}", values, { html: false })).toBe('<script>"x"</script>&');
  });

  it("drops empty lists and absent values", () => {
    expect(
      renderTemplate("[{{#each xs}}x{{/each}}][{{#if xs}}y{{/if}}][{{nope}}]", { xs: [] }, { html: false }),
    ).toBe("[][][]");
  });
});
