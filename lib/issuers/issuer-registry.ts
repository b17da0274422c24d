import type { AzureAiIssuerConfig, TourniquetConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import { AzureIssuer } from "./azure/azure-issuer.js";
import type { AzureManagement } from "./azure/azure-management.js";
import { HttpIssuer } from "./http-issuer.js";
import type { Issuer } from "./issuer.js";

/**
 * Builds the Azure management adapter for one `azure_ai` issuer from its settings and its resolved
 * client secret. Injected, so lib/ does not load Azure's SDKs where no Azure issuer is configured and
 * tests can pass an in-memory one.
 */
export type AzureManagementFactory = (settings: AzureAiIssuerConfig, clientSecret: string) => AzureManagement;

export interface IssuerFactories {
  azureManagement?: AzureManagementFactory | undefined;
}

/** Token type → issuer, from the config. Types are matched case-insensitively. */
export class IssuerRegistry {
  private readonly byType = new Map<string, Issuer>();

  constructor(issuers: ReadonlyMap<string, Issuer>, routes: Record<string, { issuer: string }>) {
    for (const [type, route] of Object.entries(routes)) {
      const issuer = issuers.get(route.issuer);
      if (issuer) this.byType.set(type.toLowerCase(), issuer);
    }
  }

  static fromConfig(config: TourniquetConfig, factories: IssuerFactories = {}): IssuerRegistry {
    const issuers = new Map<string, Issuer>();
    for (const [name, settings] of Object.entries(config.issuers)) {
      const secret = config.secrets[name];
      if (secret === undefined) {
        const field = settings.kind === "azure_ai" ? "client_secret" : "secret";
        throw new ConfigError(`issuers.${name}.${field}: this function did not resolve the issuers' secrets`);
      }
      if (settings.kind === "azure_ai") {
        if (!factories.azureManagement) {
          throw new ConfigError(
            `issuers.${name}: kind azure_ai needs the Azure adapter, which this build does not wire`,
          );
        }
        issuers.set(
          name,
          new AzureIssuer({
            name,
            management: factories.azureManagement(settings, secret),
            subscriptions: settings.subscriptions,
            ownerTags: settings.owner_tags,
          }),
        );
        continue;
      }
      issuers.set(
        name,
        new HttpIssuer({
          name,
          baseUrl: settings.url,
          secret,
          timeoutMs: settings.timeout_ms,
        }),
      );
    }
    return new IssuerRegistry(issuers, config.token_types);
  }

  forType(tokenType: string): Issuer | undefined {
    return this.byType.get(tokenType.toLowerCase());
  }

  /** Every configured issuer once (the sweep refreshes those that keep a cache). */
  all(): Issuer[] {
    return [...new Set(this.byType.values())];
  }
}
