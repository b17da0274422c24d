import {
  BadRequestError,
  ConflictError,
  ExternalCallError,
  ForbiddenError,
  NotFoundError,
  type TourniquetError,
  UnauthorizedError,
  UnreachableError,
} from "../errors.js";
import { isTransientStatus, networkErrorCode } from "../http/outbound.js";

// The CLI's calls to the stack: a network failure says which URL was tried and how to point the CLI
// at the stack; an error answer becomes the error (and so the exit code) its status means.

export async function callStack(url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (cause) {
    const { origin } = new URL(url);
    throw new UnreachableError(
      `cannot reach the Tourniquet API at ${origin}${networkErrorCode(cause)}: start the local stack (npm start), or point the CLI at it with --api <url>, TOURNIQUET_URL or PORT`,
      { cause },
    );
  }
}

/** What to add to an error answer's message, by status: what the user can do about it. */
export type AnswerHints = Partial<Record<number, (answer: { error?: string; message?: string }) => string>>;

/**
 * The error an answer that is not 2xx stands for: `METHOD path: HTTP status code: message`, with each of
 * `hidden` (a reported token) blanked out should the answer repeat it.
 */
export async function answerError(
  response: Response,
  method: string,
  hints: AnswerHints = {},
  hidden: readonly string[] = [],
): Promise<TourniquetError> {
  let text = await response.text().catch(() => "");
  for (const secret of hidden) if (secret) text = text.replaceAll(secret, "[hidden]");
  let answer: { error?: string; message?: string } = {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object") answer = parsed;
  } catch {
    answer = { message: text.slice(0, 300) };
  }
  const { pathname } = new URL(response.url || "http://stack/");
  const what = [answer.error, answer.message].filter(Boolean).join(": ") || response.statusText;
  const hint = hints[response.status]?.(answer);
  const message = `${method} ${pathname}: HTTP ${response.status} ${what}${hint ? `; ${hint}` : ""}`;
  switch (response.status) {
    case 400:
    case 413:
    case 415:
      return new BadRequestError(message);
    case 401:
      return new UnauthorizedError(message);
    case 403:
      return new ForbiddenError(message);
    case 404:
      return new NotFoundError(message);
    case 409:
      return new ConflictError(message);
    default:
      return new ExternalCallError(message, { transient: isTransientStatus(response.status) });
  }
}
