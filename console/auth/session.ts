// The signed-in admin's credential, kept for this tab only (sessionStorage): gone when the tab closes,
// never written anywhere else, never shown.

const KEY = "tq.credential";

export interface Credential {
  kind: "token" | "oidc";
  /** The bearer token sent to the admin API. */
  token: string;
  /** OIDC: the ID token, as a hint at sign-out. */
  idToken?: string;
  /** OIDC: epoch ms after which the access token is refused. */
  expiresAt?: number;
}

export function loadCredential(): Credential | undefined {
  try {
    const stored = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Credential | null;
    if (!stored?.token) return undefined;
    if (stored.expiresAt && stored.expiresAt <= Date.now()) {
      sessionStorage.removeItem(KEY);
      return undefined;
    }
    return stored;
  } catch {
    return undefined;
  }
}

export function saveCredential(credential: Credential): void {
  sessionStorage.setItem(KEY, JSON.stringify(credential));
}

export function clearCredential(): void {
  sessionStorage.removeItem(KEY);
}

/**
 * The admin token from the link `npm start` prints (`/admin/#token=…`), taken once: the fragment is
 * removed from the address bar and history so it is not left on screen or in a shared URL.
 */
export function takeFragmentToken(): string | undefined {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const token = fragment.get("token");
  if (!window.location.hash) return undefined;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  return token?.trim() || undefined;
}
