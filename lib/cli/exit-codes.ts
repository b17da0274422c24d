import { ForbiddenError, NotFoundError, UnauthorizedError, UnreachableError, UsageError } from "../errors.js";

// The exit codes scripts may rely on, one per kind of outcome, and which error means which.

export const EXIT = {
  ok: 0,
  /** The operation failed: the API answered an error, the config is invalid. */
  failed: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** The leak (or route) asked for does not exist. */
  notFound: 3,
  /** The stack could not be reached at all. */
  unreachable: 4,
  /** The admin token (or the report's signature) was refused: 401/403. */
  unauthorized: 5,
} as const;

/** The help text's account of EXIT. */
export const EXIT_CODES_HELP = `exit codes:
  0  success
  1  the operation failed (the API answered an error, the config is invalid)
  2  usage error (bad flags or arguments)
  3  not found (unknown leak id)
  4  could not reach the stack (start it with npm start, or set --api / TOURNIQUET_URL / PORT)
  5  not authorized (401/403: check TOURNIQUET_ADMIN_TOKEN)`;

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof NotFoundError) return EXIT.notFound;
  if (error instanceof UnreachableError) return EXIT.unreachable;
  if (error instanceof UnauthorizedError || error instanceof ForbiddenError) return EXIT.unauthorized;
  return EXIT.failed;
}
