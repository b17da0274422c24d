import { useEffect, useState } from "preact/hooks";
import type { ConsoleConfig } from "../auth/console-config";
import type { Credential } from "../auth/session";
import { ErrorAlert } from "../components/error-alert";
import { BASE, HOME } from "../router";

/** /admin/callback: the issuer sent the browser back with a code; redeem it (PKCE) and go on. */
export function CallbackPage(props: {
  config: ConsoleConfig;
  onSignedIn: (credential: Credential, returnTo: string) => void;
}) {
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const { config } = props;
    if (config.auth !== "oidc") {
      setError(new Error("this console does not sign in with an OIDC issuer"));
      return;
    }
    const url = new URL(window.location.href);
    import("../auth/oidc")
      .then((oidc) => oidc.finishSignIn(config, url))
      .then(({ credential, returnTo }) =>
        props.onSignedIn(credential, returnTo.startsWith(BASE) || returnTo === HOME ? returnTo : HOME),
      )
      .catch((e: unknown) => setError(e));
  }, []);
  return (
    <main id="main" class="sign-in">
      <h1>Signing in…</h1>
      <ErrorAlert error={error} />
      {error !== undefined && <a href={HOME}>Back to sign-in</a>}
    </main>
  );
}
