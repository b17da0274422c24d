import type { Log } from "../../lib/log.js";

/** A Log that keeps every line as the JSON a real logger would print, so tests can search it. */
export function recordingLog(): { log: Log; lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...attributes }));
  };
  return {
    log: { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") },
    lines,
  };
}
