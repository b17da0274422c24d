import type { AzureAiIssuerConfig, TourniquetConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import { AzureIssuer } from "./azure/azure-issuer.js";
import type { AzureManagement } from "./azure/azure-management.js";
import { type AzureTransportOptions, lazyAzureManagement } from "./azure/lazy-azure-management.js";
import { HttpIssuer } from "./http-issuer.js";
import type { Issuer } from "./issuer.js";

/**
 * Builds the Azure management adapter for one `azure_ai` issuer from its settings and its resolved
 * client secret. By default Microsoft's SDKs, loaded with the first call (lazy-azure-management.ts);
 * tests may pass an in-memory one.
 */
export type AzureManagementFactory = (settings: AzureAiIssuerConfig, clientSecret: string) => AzureManagement;

export interface IssuerFactories {
  azureManagement?: AzureManagementFactory | undefined;
  /** For the default Azure adapter: a test CA for a loopback fake, a timeout. */
  azureTransport?: AzureTransportOptions | undefined;
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
      if (settings.kind === "aws_iam") {
        // Work in progress (issue 11): the AWS issuer lands with its adapter.
        throw new ConfigError(`issuers.${name}: kind aws_iam is not built yet`);
      }
      const secret = config.secrets[name];
      if (secret === undefined) {
        const field = settings.kind === "azure_ai" ? "client_secret" : "secret";
        throw new ConfigError(`issuers.${name}.${field}: this function did not resolve the issuers' secrets`);
      }
      if (settings.kind === "azure_ai") {
        const management =
          factories.azureManagement?.(settings, secret) ??
          lazyAzureManagement(settings, secret, factories.azureTransport);
        issuers.set(
          name,
          new AzureIssuer({
            name,
            management,
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
