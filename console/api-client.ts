import type { ApiErrorBody, LeakDetail, LeakPage, Overview } from "./api-types";

// The console's only way to the admin API: every call carries the bearer credential; an error answer
// becomes an ApiError with the API's own code and message, shown as they are.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const API_BASE = "/v1/admin";

export interface ApiClient {
  get<T>(path: string, query?: URLSearchParams): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  /** The raw answer (exports read headers and text). */
  fetch(path: string, query?: URLSearchParams): Promise<Response>;
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as Partial<ApiErrorBody>;
    if (typeof body.error === "string" && typeof body.message === "string") {
      return new ApiError(response.status, body.error, body.message);
    }
  } catch {
    // not the API's JSON error: a gateway's page or an empty answer
  }
  return new ApiError(
    response.status,
    "http_error",
    `the API answered ${response.status} ${response.statusText}`.trim(),
  );
}

/**
 * `credential` gives the bearer token of the signed-in admin; `onUnauthorized` is told of a 401 (an
 * expired or refused credential) so the console can return to sign-in.
 */
export function createApiClient(
  credential: () => string | undefined,
  onUnauthorized: (error: ApiError) => void,
): ApiClient {
  const call = async (path: string, init: RequestInit = {}, query?: URLSearchParams) => {
    const url = `${API_BASE}${path}${query && [...query].length ? `?${query}` : ""}`;
    const headers = new Headers(init.headers);
    const token = credential();
    if (token) headers.set("authorization", `Bearer ${token}`);
    let response: Response;
    try {
      response = await fetch(url, { ...init, headers, credentials: "omit", cache: "no-store" });
    } catch (error) {
      throw new ApiError(0, "network", `the API could not be reached: ${(error as Error).message}`);
    }
    if (!response.ok) {
      const error = await errorOf(response);
      if (response.status === 401) onUnauthorized(error);
      throw error;
    }
    return response;
  };
  return {
    get: async <T>(path: string, query?: URLSearchParams) =>
      (await (await call(path, {}, query)).json()) as T,
    post: async <T>(path: string, body: unknown) =>
      (await (
        await call(path, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        })
      ).json()) as T,
    fetch: (path, query) => call(path, {}, query),
  };
}

export const api = {
  overview: (client: ApiClient, query?: URLSearchParams) => client.get<Overview>("/overview", query),
  leaks: (client: ApiClient, query: URLSearchParams) => client.get<LeakPage>("/leaks", query),
  leak: (client: ApiClient, id: string) => client.get<LeakDetail>(`/leaks/${encodeURIComponent(id)}`),
  retry: (client: ApiClient, id: string) =>
    client.post<{ retried: boolean }>(`/leaks/${encodeURIComponent(id)}/retry`, {}),
  dismiss: (client: ApiClient, id: string, reason: string, note: string) =>
    client.post<unknown>(`/leaks/${encodeURIComponent(id)}/dismiss`, note ? { reason, note } : { reason }),
};
