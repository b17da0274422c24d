import { IssuerError } from "../../errors.js";

// What each call needs of the service principal, so a 401/403 names what to fix (docs/deploy.md lists
// the same actions as the least role).

export type AzureOperation = "listAccounts" | "listKeys" | "regenerateKey" | "getMetrics";

export const REQUIRED_ACTION: Record<AzureOperation, string> = {
  listAccounts: "Microsoft.CognitiveServices/accounts/read",
  listKeys: "Microsoft.CognitiveServices/accounts/listKeys/action",
  regenerateKey: "Microsoft.CognitiveServices/accounts/regenerateKey/action",
  getMetrics: "Microsoft.Insights/metrics/read",
};

/**
 * The adapter's error, restated for the leak's timeline: which issuer, which call, on what, and for
 * 401/403 the credential or permission to fix (permanent: an admin retries once it is fixed).
 */
export function explainAzureError(
  error: unknown,
  context: { issuer: string; op: AzureOperation; target: string },
): IssuerError {
  const prefix = `issuer "${context.issuer}" ${context.op} (${context.target})`;
  if (!(error instanceof IssuerError)) {
    const message = error instanceof Error ? error.message : String(error);
    return new IssuerError(`${prefix}: ${message}`, { transient: true, cause: error });
  }
  const { httpStatus } = error;
  if (httpStatus === 401) {
    return new IssuerError(
      `${prefix}: Entra ID or ARM refused the service principal (HTTP 401): check tenant_id, client_id and client_secret; ${error.message}`,
      { transient: false, httpStatus, cause: error },
    );
  }
  if (httpStatus === 403) {
    return new IssuerError(
      `${prefix}: the service principal lacks permission ${REQUIRED_ACTION[context.op]} (HTTP 403); ${error.message}`,
      { transient: false, httpStatus, cause: error },
    );
  }
  return new IssuerError(`${prefix}: ${error.message}`, {
    transient: error.transient,
    retryAfterSeconds: error.retryAfterSeconds,
    httpStatus,
    cause: error,
  });
}
