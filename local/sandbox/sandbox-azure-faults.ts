// Injected failures of the fake Azure, per operation, so tests and the demo can show Tourniquet's
// answer to each documented failure through real HTTP: the status picks the documented body (ARM's
// `{"error":{code,message}}`, Entra's AADSTS body for the token endpoint).

export type AzureOperation = "token" | "listAccounts" | "listKeys" | "regenerateKey" | "metrics";

/** The RBAC action each ARM operation needs (what a 403 AuthorizationFailed names). */
export const REQUIRED_ACTION: Record<Exclude<AzureOperation, "token">, string> = {
  listAccounts: "Microsoft.CognitiveServices/accounts/read",
  listKeys: "Microsoft.CognitiveServices/accounts/listKeys/action",
  regenerateKey: "Microsoft.CognitiveServices/accounts/regenerateKey/action",
  metrics: "Microsoft.Insights/metrics/read",
};

export interface AzureFault {
  /** 401, 403, 404, 429, 5xx. Without it the call is only delayed, then answered normally. */
  status?: number | undefined;
  /** Seconds, sent as Retry-After (429, 503). */
  retryAfter?: number | undefined;
  /** Wait this long before answering (to trip client timeouts). */
  delayMs?: number | undefined;
}

const ARM_ERRORS: Record<number, { code: string; message: string }> = {
  400: { code: "BadRequest", message: "The request is invalid." },
  401: { code: "InvalidAuthenticationToken", message: "The access token is invalid." },
  404: {
    code: "ResourceNotFound",
    message:
      "The Resource was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
  },
  409: { code: "Conflict", message: "The request conflicts with the resource's state." },
  429: {
    code: "TooManyRequests",
    message: "The request is being throttled as the limit has been reached for operation type.",
  },
  500: { code: "InternalServerError", message: "Encountered internal server error. Please try again." },
  502: { code: "BadGateway", message: "The gateway did not receive a response within the specified time." },
  503: { code: "ServiceUnavailable", message: "The server is currently unable to handle the request." },
  504: {
    code: "GatewayTimeout",
    message: "The gateway did not receive a response within the specified time.",
  },
};

/** ARM's error for `status`; a 403 names the action the caller lacks over `scope`, as ARM's does. */
export function armError(
  status: number,
  context: { clientId: string; action: string; scope: string },
): { code: string; message: string } {
  if (status === 403) {
    return {
      code: "AuthorizationFailed",
      message: `The client '${context.clientId}' with object id '${context.clientId}' does not have authorization to perform action '${context.action}' over scope '${context.scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    };
  }
  return ARM_ERRORS[status] ?? { code: "InternalServerError", message: `Status ${status}.` };
}

/** A queue of faults per operation; each call takes at most one. */
export class AzureFaultPlan {
  private readonly queues = new Map<AzureOperation, AzureFault[]>();

  add(operation: AzureOperation, fault: AzureFault, times: number): void {
    const queue = this.queues.get(operation) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.queues.set(operation, queue);
  }

  next(operation: AzureOperation): AzureFault | undefined {
    return this.queues.get(operation)?.shift();
  }

  clear(): void {
    this.queues.clear();
  }
}
