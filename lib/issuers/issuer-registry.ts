import type { AwsIamIssuerConfig, AzureAiIssuerConfig, TourniquetConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import type { AwsIamAccess } from "./aws/aws-iam-access.js";
import { AwsIamIssuer } from "./aws/aws-iam-issuer.js";
import { type AwsTransportOptions, lazyAwsIamAccess } from "./aws/lazy-aws-iam-access.js";
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
  /** The STS/IAM port for one `aws_iam` issuer: by default AWS's SDK clients, loaded with the first call. */
  awsIamAccess?: ((settings: AwsIamIssuerConfig) => AwsIamAccess) | undefined;
  /** For the default AWS adapter: endpoints, credentials and region of a loopback fake, a timeout. */
  awsTransport?: AwsTransportOptions | undefined;
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
        // No secret: it acts with the function's own credentials and the responder roles it assumes.
        issuers.set(
          name,
          new AwsIamIssuer({
            name,
            access: factories.awsIamAccess?.(settings) ?? lazyAwsIamAccess(factories.awsTransport),
            accounts: settings.accounts,
            deleteAfterDeactivate: settings.delete_after_deactivate,
            quarantine: settings.quarantine,
            ownerTags: settings.owner_tags,
          }),
        );
        continue;
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
