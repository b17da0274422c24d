import { readFile } from "node:fs/promises";
import { resolve, sep } from "node:path";

// Where the console's built files come from: a directory (the Lambda asset) or memory (the local stack
// builds them at start). Paths are relative and already checked by serve-console.ts.

export interface ConsoleFiles {
  /** The file's bytes, or undefined when there is no such file. */
  read(path: string): Promise<Uint8Array | undefined>;
}

export function directoryFiles(dir: string): ConsoleFiles {
  const root = resolve(dir);
  return {
    read: async (path) => {
      const file = resolve(root, path);
      // Defence in depth: serve-console.ts refuses `..` already.
      if (!file.startsWith(root + sep)) return undefined;
      try {
        return await readFile(file);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return undefined;
        throw error;
      }
    },
  };
}

export function memoryFiles(files: ReadonlyMap<string, Uint8Array>): ConsoleFiles {
  return { read: async (path) => files.get(path) };
}
