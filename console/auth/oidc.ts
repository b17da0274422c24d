import * as oauth from "oauth4webapi";
import { HOME } from "../router";
import type { OidcConfig } from "./console-config";
import type { Credential } from "./session";

// Sign-in with the deployment's OIDC issuer: authorization code flow with PKCE (S256), a public client,
// through oauth4webapi. Loaded only in OIDC mode (a chunk of its own).

const PENDING = "tq.oidc.pending";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export const redirectUri = () => `${window.location.origin}/admin/callback`;

const server = (config: OidcConfig): oauth.AuthorizationServer => ({
  issuer: config.issuer,
  authorization_endpoint: config.authorization_endpoint,
  token_endpoint: config.token_endpoint,
  ...(config.end_session_endpoint ? { end_session_endpoint: config.end_session_endpoint } : {}),
});

// Plain HTTP only to a loopback issuer (tests); lib/console/console-auth.ts refuses it elsewhere.
const transport = (config: OidcConfig) =>
  LOOPBACK.has(new URL(config.token_endpoint).hostname) && config.token_endpoint.startsWith("http:")
    ? { [oauth.allowInsecureRequests]: true }
    : {};

/** Sends the browser to the issuer's sign-in page; it comes back to /admin/callback. */
export async function startSignIn(config: OidcConfig, returnTo: string): Promise<void> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem(PENDING, JSON.stringify({ codeVerifier, state, returnTo }));
  const url = new URL(config.authorization_endpoint);
  url.searchParams.set("client_id", config.client_id);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("redirect_uri", redirectUri());
  url.searchParams.set("scope", config.scopes.join(" "));
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", state);
  window.location.assign(url.href);
}

/** Completes the sign-in at /admin/callback: checks the state, redeems the code with the verifier. */
export async function finishSignIn(
  config: OidcConfig,
  currentUrl: URL,
): Promise<{ credential: Credential; returnTo: string }> {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null") as {
    codeVerifier: string;
    state: string;
    returnTo: string;
  } | null;
  sessionStorage.removeItem(PENDING);
  if (!pending) throw new Error("no sign-in was started in this tab; sign in again");
  const as = server(config);
  const client: oauth.Client = { client_id: config.client_id };
  const params = oauth.validateAuthResponse(as, client, currentUrl, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    redirectUri(),
    pending.codeVerifier,
    transport(config),
  );
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
    requireIdToken: config.scopes.includes("openid"),
  });
  // The ID token only when the deployment says so (Cognito: it names the API's client and carries the
  // verified email the timeline shows); else the access token.
  const token = config.token === "id_token" ? result.id_token : result.access_token;
  if (!token) throw new Error("the issuer returned no ID token; ask for the openid scope");
  return {
    credential: {
      kind: "oidc",
      token,
      ...(result.id_token ? { idToken: result.id_token } : {}),
      ...(result.expires_in ? { expiresAt: Date.now() + result.expires_in * 1000 } : {}),
    },
    returnTo: pending.returnTo,
  };
}

/** The issuer's sign-out page, when it has one (Cognito reads logout_uri, OIDC post_logout_redirect_uri). */
export function signOutUrl(config: OidcConfig, idToken: string | undefined): string | undefined {
  if (!config.end_session_endpoint) return undefined;
  const url = new URL(config.end_session_endpoint);
  const back = `${window.location.origin}${HOME}`;
  url.searchParams.set("client_id", config.client_id);
  url.searchParams.set("post_logout_redirect_uri", back);
  url.searchParams.set("logout_uri", back);
  if (idToken) url.searchParams.set("id_token_hint", idToken);
  return url.href;
}
