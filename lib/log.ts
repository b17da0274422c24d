// The logging port. Powertools' Logger satisfies it in Lambda and locally; tests pass a recorder.
// Never pass a token here: log fingerprints, previews and leak ids.

export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** A plain description of an error for logs and timeline details (our errors never carry tokens). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
