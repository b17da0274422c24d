// Injected failures for the sandbox issuer, so tests and demos can show Tourniquet retrying,
// backing off and giving up against a real HTTP issuer rather than a mock.

export type SandboxRoute = "verify" | "revoke" | "rotate";

/** Answer with this status (and Retry-After), or wait before handling the call normally. */
export type SandboxFault = { status: number; retryAfter?: number | undefined } | { delayMs: number };

export interface SandboxFaults {
  /** Consulted once before each protocol call; `undefined` means handle it normally. */
  next(route: SandboxRoute): SandboxFault | undefined;
}

/** The next `n` calls to `route` fail with `status`; later calls succeed. */
export function failTimes(
  route: SandboxRoute,
  n: number,
  status: number,
  retryAfter?: number,
): SandboxFaults {
  return times(route, n, { status, retryAfter });
}

/** The next `n` calls to `route` are answered only after `delayMs` (to trip client timeouts). */
export function delayTimes(route: SandboxRoute, n: number, delayMs: number): SandboxFaults {
  return times(route, n, { delayMs });
}

/** Several plans at once; the first that has a fault for the call wins. */
export function combineFaults(...plans: SandboxFaults[]): SandboxFaults {
  return {
    next(route) {
      for (const plan of plans) {
        const fault = plan.next(route);
        if (fault) return fault;
      }
      return undefined;
    },
  };
}

function times(route: SandboxRoute, n: number, fault: SandboxFault): SandboxFaults {
  let left = n;
  return {
    next(called) {
      if (called !== route || left <= 0) return undefined;
      left -= 1;
      return fault;
    },
  };
}
