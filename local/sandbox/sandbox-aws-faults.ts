// Injected failures of the fake AWS, so tests and the demo see Tourniquet's answer to each documented
// failure through real HTTP: scripted errors for the next N calls of an action (optionally in one
// account), actions denied in an account (AccessDenied in AWS's own words), and delayed answers.

export interface AwsFault {
  /** HTTP status of the error answer; without `code`, the call is only delayed. */
  status?: number | undefined;
  /** Error code: Throttling, ServiceFailure, ServiceUnavailable, … */
  code?: string | undefined;
  message?: string | undefined;
  /** Wait this long before answering (to trip client timeouts). */
  delayMs?: number | undefined;
}

/** Common faults, in the words AWS uses. */
export const AWS_FAULTS = {
  throttling: { status: 400, code: "Throttling", message: "Rate exceeded" },
  serviceFailure: {
    status: 500,
    code: "ServiceFailure",
    message: "Request processing has failed because of an unknown error, exception or failure.",
  },
  serviceUnavailable: { status: 503, code: "ServiceUnavailable", message: "Service is unavailable" },
} as const satisfies Record<string, AwsFault>;

interface Scripted {
  fault: AwsFault;
  account: string | undefined;
  remaining: number;
}

export class AwsFaultPlan {
  private readonly scripted = new Map<string, Scripted[]>();
  /** `<account>:<service>:<Action>` entries. */
  private readonly denied = new Set<string>();

  add(action: string, fault: AwsFault, times: number, account?: string): void {
    const queue = this.scripted.get(action) ?? [];
    queue.push({ fault, account, remaining: times });
    this.scripted.set(action, queue);
  }

  /** The fault the next call of `action` in `account` takes, if one is scripted. */
  next(action: string, account: string | undefined): AwsFault | undefined {
    const queue = this.scripted.get(action) ?? [];
    const index = queue.findIndex((s) => s.account === undefined || s.account === account);
    const entry = queue[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) queue.splice(index, 1);
    return entry.fault;
  }

  deny(account: string, permission: string): void {
    this.denied.add(`${account}:${permission}`);
  }

  isDenied(account: string, permission: string): boolean {
    return this.denied.has(`${account}:${permission}`);
  }

  clear(): void {
    this.scripted.clear();
    this.denied.clear();
  }
}

/** AccessDenied as IAM words it for an identity-based policy that does not allow the action. */
export function accessDenied(principalArn: string, permission: string, resource: string) {
  return {
    status: 403,
    code: "AccessDenied",
    message: `User: ${principalArn} is not authorized to perform: ${permission} on resource: ${resource} because no identity-based policy allows the ${permission} action`,
  };
}
