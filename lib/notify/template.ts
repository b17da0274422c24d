// A very small template language for the notification files a team edits (templates/*.txt, *.html):
//   {{name}} or {{a.b}}          a value (HTML-escaped when the template is HTML)
//   {{#each list}}…{{/each}}     repeat for each item; inside, {{.}} is the item or {{field}} its field
//   {{#if name}}…{{/if}}         keep when the value is present and not empty
// No logic beyond that: what a message says is decided in code, how it reads is decided in the file.

type Scope = Record<string, unknown>;

const escapeHtml = (text: string) =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

function lookup(scopes: Scope[], path: string): unknown {
  if (path === ".") return scopes[0]?.["."];
  for (const scope of scopes) {
    const parts = path.split(".");
    if (!((parts[0] ?? "") in scope)) continue;
    let value: unknown = scope;
    for (const part of parts) value = (value as Scope | undefined)?.[part];
    return value;
  }
  return undefined;
}

const present = (value: unknown) =>
  value !== undefined &&
  value !== null &&
  value !== false &&
  value !== "" &&
  !(Array.isArray(value) && value.length === 0);

const BLOCK = /\{\{#(each|if) ([\w.]+)\}\}([\s\S]*?)\{\{\/\1\}\}/;

function render(template: string, scopes: Scope[], html: boolean): string {
  let out = template;
  // Innermost-first is not needed: blocks of the same kind do not nest in our templates, and
  // different kinds nest because each block's body is rendered with its own scopes.
  for (let match = BLOCK.exec(out); match; match = BLOCK.exec(out)) {
    const [whole, kind, path, body] = match as unknown as [string, string, string, string];
    const value = lookup(scopes, path);
    let replacement = "";
    if (kind === "if") replacement = present(value) ? render(body, scopes, html) : "";
    else if (Array.isArray(value)) {
      replacement = value
        .map((item) =>
          render(
            body,
            [typeof item === "object" && item ? { ...(item as Scope), ".": item } : { ".": item }, ...scopes],
            html,
          ),
        )
        .join("");
    }
    out = out.slice(0, match.index) + replacement + out.slice(match.index + whole.length);
  }
  return out.replace(/\{\{([\w.]+)\}\}/g, (_, path: string) => {
    const value = lookup(scopes, path);
    const text = value === undefined || value === null ? "" : String(value);
    return html ? escapeHtml(text) : text;
  });
}

export function renderTemplate(template: string, values: Scope, options: { html: boolean }): string {
  return render(template, [values], options.html);
}
