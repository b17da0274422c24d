// GET /admin/config.json: how this deployment signs in (lib/console/console-auth.ts).

export type ConsoleConfig =
  | { auth: "token" }
  | {
      auth: "oidc";
      issuer: string;
      client_id: string;
      authorization_endpoint: string;
      token_endpoint: string;
      end_session_endpoint?: string;
      scopes: string[];
      /** Which token goes to the admin API as the bearer. */
      token: "access_token" | "id_token";
    }
  | { auth: "none"; reason: string };

export type OidcConfig = Extract<ConsoleConfig, { auth: "oidc" }>;

export async function loadConsoleConfig(): Promise<ConsoleConfig> {
  const response = await fetch("/admin/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`the console's settings could not be read (HTTP ${response.status})`);
  return (await response.json()) as ConsoleConfig;
}
