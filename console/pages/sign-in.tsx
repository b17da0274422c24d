import { useState } from "preact/hooks";
import type { ConsoleConfig } from "../auth/console-config";
import { ErrorAlert } from "../components/error-alert";

// Sign-in: the local stack's admin token (kept for this tab only), or the deployment's OIDC issuer.

export function SignInPage(props: {
  config: ConsoleConfig;
  message?: string | undefined;
  onToken: (token: string) => void;
}) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>();
  const { config } = props;
  return (
    <main id="main" class="sign-in">
      <h1>Tourniquet console</h1>
      {props.message && (
        <p class="notice" role="status">
          {props.message}
        </p>
      )}
      <ErrorAlert error={error} />
      {config.auth === "token" ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!token.trim()) return setError(new Error("Enter the admin token."));
            props.onToken(token.trim());
          }}
        >
          <label for="admin-token">Admin token</label>
          <input
            id="admin-token"
            class="token-input"
            name="admin-token"
            type="password"
            autoComplete="off"
            required
            value={token}
            onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
          />
          <p class="muted">
            The local stack's token is in <code>.tourniquet/admin-token</code> (or{" "}
            <code>TOURNIQUET_ADMIN_TOKEN</code>); the link <code>npm start</code> prints signs you in. It is
            kept for this tab only.
          </p>
          <button type="submit">Sign in</button>
        </form>
      ) : config.auth === "none" ? (
        <p class="notice" role="status">
          Signing in is not configured for this deployment: {config.reason}
        </p>
      ) : (
        <div>
          <p>Sign in with your organisation's account at {new URL(config.issuer).host}.</p>
          <button
            type="button"
            onClick={() =>
              void import("../auth/oidc")
                .then((oidc) => oidc.startSignIn(config, window.location.pathname + window.location.search))
                .catch((e: unknown) => setError(e))
            }
          >
            Sign in
          </button>
        </div>
      )}
    </main>
  );
}
