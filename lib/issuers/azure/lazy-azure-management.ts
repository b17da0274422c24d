import type { AzureAiIssuerConfig } from "../../config.js";
import type { AzureArmManagementOptions } from "./azure-arm-management.js";
import type { AzureManagement } from "./azure-management.js";

// Azure's SDKs are loaded with the first Azure call, not when the config is read: a function whose
// config names no Azure issuer, or a cold start that never meets an Azure key, pays nothing for them
// beyond the bundle's bytes (esbuild keeps the dynamic import lazy).

/** What a runtime adds to an issuer's settings: a test CA for a loopback fake, say. */
export type AzureTransportOptions = Pick<AzureArmManagementOptions, "trustedCaPem" | "timeoutMs">;

export function lazyAzureManagement(
  settings: AzureAiIssuerConfig,
  clientSecret: string,
  transport: AzureTransportOptions = {},
): AzureManagement {
  let loaded: Promise<AzureManagement> | undefined;
  const management = () => {
    loaded ??= import("./azure-arm-management.js").then(
      ({ AzureArmManagement }) =>
        new AzureArmManagement({
          tenantId: settings.tenant_id,
          clientId: settings.client_id,
          clientSecret,
          authorityUrl: settings.authority_url,
          managementUrl: settings.management_url,
          ...transport,
        }),
    );
    return loaded;
  };
  return {
    listAccounts: async (subscriptionId, options) =>
      (await management()).listAccounts(subscriptionId, options),
    listKeys: async (accountId, options) => (await management()).listKeys(accountId, options),
    regenerateKey: async (accountId, slot, options) =>
      (await management()).regenerateKey(accountId, slot, options),
    getMetrics: async (accountId, query, options) =>
      (await management()).getMetrics(accountId, query, options),
  };
}
