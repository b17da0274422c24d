import { ApiError } from "../api-client";

/** An error as the API said it, in a live region screen readers announce. */
export function ErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  const text =
    error instanceof ApiError
      ? `${error.message} (${error.code}${error.status ? `, HTTP ${error.status}` : ""})`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <div class="alert" role="alert">
      <strong>Error:</strong> {text}
    </div>
  );
}
