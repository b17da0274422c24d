// Handlebars' self-contained build (lib/notify/template.ts says why it is the one imported) has the API
// of the package's entry, but its types are declared for the entry only.
declare module "handlebars/dist/handlebars.js" {
  import Handlebars = require("handlebars");
  export = Handlebars;
}
