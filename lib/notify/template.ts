import Handlebars from "handlebars/dist/handlebars.js";
import { ConfigError } from "../errors.js";

// The notification files a team edits (templates/*.txt, *.html) are Handlebars templates; their syntax
// is described in templates/README.md. Values are data: Handlebars prints a value as it is, never reads
// braces in it as template. No logic beyond Handlebars' built-in helpers: what a message says is
// decided in code, how it reads is decided in the file.
//
// Imported from Handlebars' self-contained build: the package's entry (lib/index.js) registers Node
// require() hooks for .hbs files and bundles the source-map library, neither of which is used here.

export type RenderTemplate = (values: Record<string, unknown>) => string;

/** Ours alone: nothing registered on the shared Handlebars instance reaches these templates. */
const handlebars = Handlebars.create();

/** What a template may not use, found while reading it rather than when a message is rendered. */
class UnsupportedSyntax extends Handlebars.Visitor {
  constructor(private readonly html: boolean) {
    super();
  }
  override MustacheStatement(node: hbs.AST.MustacheStatement): void {
    if (this.html && !node.escaped) unsupported("unescaped values ({{{name}}}) in HTML", node);
    super.MustacheStatement(node);
  }
  override PartialStatement(node: hbs.AST.PartialStatement): void {
    unsupported("partials ({{> name}})", node);
  }
  override PartialBlockStatement(node: hbs.AST.PartialBlockStatement): void {
    unsupported("partials ({{#> name}})", node);
  }
  override Decorator(node: hbs.AST.Decorator): void {
    unsupported("decorators ({{* name}})", node);
  }
  override DecoratorBlock(node: hbs.AST.DecoratorBlock): void {
    unsupported("decorators ({{#* name}})", node);
  }
}

function unsupported(what: string, node: hbs.AST.Node): never {
  throw new Error(`${what} are not supported (line ${node.loc.start.line})`);
}

/**
 * Compiles a template once (call it when templates are loaded, not per message). HTML templates
 * escape every value (and may not print one unescaped with `{{{value}}}`); text templates print values
 * as they are. A template that does not compile, or uses a helper, partial or decorator Handlebars does
 * not have built in, is a ConfigError naming it.
 */
export function compileTemplate(source: string, options: { html: boolean; name?: string }): RenderTemplate {
  let template: HandlebarsTemplateDelegate;
  try {
    const ast = handlebars.parse(source);
    new UnsupportedSyntax(options.html).accept(ast);
    template = handlebars.compile(ast, { noEscape: !options.html, strict: false, knownHelpersOnly: true });
    // Handlebars compiles on first use: render once with no values so a broken file fails here.
    template({});
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`Template ${options.name ?? "(inline)"} does not compile: ${reason}`, {
      cause: error,
    });
  }
  return (values) => template(values);
}
