import type { SecretScanningAlerts } from "./github-app-client.js";

/**
 * The App's REST client (Octokit, @octokit/auth-app) loaded with its first call: the webhook intake
 * never calls GitHub, and the worker and the sweep only for App alerts, so no cold start pays for it.
 * The one client, once loaded, keeps its installation tokens as before.
 */
export function lazySecretScanningAlerts(load: () => Promise<SecretScanningAlerts>): SecretScanningAlerts {
  let loading: Promise<SecretScanningAlerts> | undefined;
  const client = () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined; // a failed load is tried again with the next call
      throw error;
    }));
  return {
    getAlert: async (...args) => (await client()).getAlert(...args),
    listAlertLocations: async (...args) => (await client()).listAlertLocations(...args),
    listInstallations: async (...args) => (await client()).listInstallations(...args),
    listInstallationRepositories: async (...args) => (await client()).listInstallationRepositories(...args),
    listOpenAlerts: async (...args) => (await client()).listOpenAlerts(...args),
    resolveAlert: async (...args) => (await client()).resolveAlert(...args),
  };
}
