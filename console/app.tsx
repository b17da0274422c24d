import { useMemo, useRef, useState } from "preact/hooks";
import { createApiClient } from "./api-client";
import type { ConsoleConfig } from "./auth/console-config";
import {
  type Credential,
  clearCredential,
  loadCredential,
  saveCredential,
  takeFragmentToken,
} from "./auth/session";
import { Link } from "./components/link";
import { CallbackPage } from "./pages/callback";
import { LeakDetailPage } from "./pages/leak-detail";
import { LeakListPage } from "./pages/leak-list";
import { OverviewPage } from "./pages/overview";
import { SignInPage } from "./pages/sign-in";
import { BASE, HOME, navigate, type Route, useRoute } from "./router";

function initialCredential(): Credential | undefined {
  const fromLink = takeFragmentToken();
  if (fromLink) {
    const credential: Credential = { kind: "token", token: fromLink };
    saveCredential(credential);
    return credential;
  }
  return loadCredential();
}

export function App({ config }: { config: ConsoleConfig }) {
  const route = useRoute();
  const [credential, setCredential] = useState(initialCredential);
  const [message, setMessage] = useState<string>();
  const current = useRef(credential);
  current.current = credential;

  const client = useMemo(
    () =>
      createApiClient(
        () => current.current?.token,
        (error) => {
          clearCredential();
          setCredential(undefined);
          setMessage(
            `You are signed out: the admin API refused the credential (${error.message}). Sign in again.`,
          );
        },
      ),
    [],
  );

  const signIn = (next: Credential) => {
    saveCredential(next);
    current.current = next;
    setMessage(undefined);
    setCredential(next);
  };

  const signOut = async () => {
    const was = credential;
    clearCredential();
    setCredential(undefined);
    setMessage("You are signed out.");
    if (config.auth === "oidc" && was?.kind === "oidc") {
      const url = (await import("./auth/oidc")).signOutUrl(config, was.idToken);
      if (url) window.location.assign(url);
    }
  };

  if (route.page === "callback") {
    return (
      <CallbackPage
        config={config}
        onSignedIn={(next, returnTo) => {
          signIn(next);
          navigate(returnTo, { replace: true });
        }}
      />
    );
  }
  if (!credential) {
    return (
      <SignInPage config={config} message={message} onToken={(token) => signIn({ kind: "token", token })} />
    );
  }
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Tourniquet</span>
        <nav aria-label="Console">
          <Link href={HOME} class={route.page === "overview" ? "nav-link current" : "nav-link"}>
            Overview
          </Link>
          <Link
            href={`${BASE}leaks`}
            class={route.page === "leaks" || route.page === "leak" ? "nav-link current" : "nav-link"}
          >
            Leaks
          </Link>
        </nav>
        <button type="button" class="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} client={client} />
      </main>
    </>
  );
}

function Page({ route, client }: { route: Route; client: ReturnType<typeof createApiClient> }) {
  switch (route.page) {
    case "overview":
      return <OverviewPage client={client} query={route.query} />;
    case "leaks":
      return <LeakListPage client={client} query={route.query} />;
    case "leak":
      return <LeakDetailPage client={client} id={route.id} />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no console page here. <Link href={HOME}>Go to the overview</Link>.
          </p>
        </section>
      );
  }
}
