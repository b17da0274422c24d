import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The local stack's config file, in a module of its own so that the CLI can name it without loading
// the stack.

export const DEFAULT_CONFIG_PATH = resolve(dirname(fileURLToPath(import.meta.url)), "../config/local.json");
