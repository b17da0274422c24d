import type {
  AwsIamIssuerConfig,
  AzureAiIssuerConfig,
  GithubIssuerConfig,
  OpenaiIssuerConfig,
  SlackIssuerConfig,
  TourniquetConfig,
} from "../config.js";
import { issuerSecretField } from "../config-secrets.js";
import { ConfigError } from "../errors.js";
import type { AwsIamAccess } from "./aws/aws-iam-access.js";
import { AwsIamIssuer } from "./aws/aws-iam-issuer.js";
import { type AwsTransportOptions, lazyAwsIamAccess } from "./aws/lazy-aws-iam-access.js";
import { AzureIssuer } from "./azure/azure-issuer.js";
import type { AzureManagement } from "./azure/azure-management.js";
import { type AzureTransportOptions, lazyAzureManagement } from "./azure/lazy-azure-management.js";
import type { GithubTokenApi } from "./github/github-token-api.js";
import { GithubTokenIssuer } from "./github/github-token-issuer.js";
import { lazyGithubTokenApi } from "./github/lazy-github-token-api.js";
import type { RevocationBatcherOptions } from "./github/revocation-batcher.js";
import { HttpIssuer } from "./http-issuer.js";
import type { Issuer } from "./issuer.js";
import { lazyIssuer } from "./lazy-issuer.js";
import { lazyOpenaiAccess } from "./openai/lazy-openai-access.js";
import type { OpenaiAccess } from "./openai/openai-access.js";
import { lazySlackApi } from "./slack/lazy-slack-api.js";
import type { SlackApi } from "./slack/slack-api.js";

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
  /** The OpenAI port for one `openai` issuer: by default OpenAI's SDK, loaded with the first call. */
  openaiAccess?: ((settings: OpenaiIssuerConfig, adminKey: string) => OpenaiAccess) | undefined;
  /** The Slack port for one `slack` issuer (its settings, its bot token if any): by default Slack's SDK, loaded with the first call. */
  slackApi?: ((settings: SlackIssuerConfig, botToken: string | undefined) => SlackApi) | undefined;
  /** The GitHub tokens port for one `github` issuer: by default Octokit, loaded with the first call. */
  githubTokenApi?: ((settings: GithubIssuerConfig) => GithubTokenApi) | undefined;
  /** For the GitHub tokens issuer: how revocations are batched (tests shorten the waits). */
  githubBatch?: Omit<RevocationBatcherOptions, "send"> | undefined;
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
      issuers.set(name, buildIssuer(name, settings, config.secrets[name], factories));
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

type IssuerSettings = TourniquetConfig["issuers"][string];

/** One issuer from its settings and its resolved secret (undefined: none, or not resolved here). */
function buildIssuer(
  name: string,
  settings: IssuerSettings,
  secret: string | undefined,
  factories: IssuerFactories,
): Issuer {
  const required = (): string => {
    if (secret !== undefined) return secret;
    const field = issuerSecretField(settings)?.[0] ?? "secret";
    throw new ConfigError(`issuers.${name}.${field}: this function did not resolve the issuers' secrets`);
  };
  switch (settings.kind) {
    case "http":
      return new HttpIssuer({
        name,
        baseUrl: settings.url,
        secret: required(),
        timeoutMs: settings.timeout_ms,
      });
    case "azure_ai": {
      const clientSecret = required();
      return new AzureIssuer({
        name,
        management:
          factories.azureManagement?.(settings, clientSecret) ??
          lazyAzureManagement(settings, clientSecret, factories.azureTransport),
        subscriptions: settings.subscriptions,
        ownerTags: settings.owner_tags,
      });
    }
    case "aws_iam":
      return new AwsIamIssuer({
        name,
        access: factories.awsIamAccess?.(settings) ?? lazyAwsIamAccess(factories.awsTransport),
        accounts: settings.accounts,
        deleteAfterDeactivate: settings.delete_after_deactivate,
        quarantine: settings.quarantine,
        ownerTags: settings.owner_tags,
      });
    case "openai": {
      const adminKey = required();
      const access =
        factories.openaiAccess?.(settings, adminKey) ??
        lazyOpenaiAccess({ apiUrl: settings.api_url, adminKey, timeoutMs: settings.timeout_ms });
      return lazyIssuer(
        name,
        async () => new (await import("./openai/openai-issuer.js")).OpenaiIssuer({ name, access }),
        ["usageSince"],
      );
    }
    case "slack": {
      // The bot token is optional (owner look-up only): a function that did not resolve secrets has none.
      const botToken = settings.bot_token ? secret : undefined;
      const api =
        factories.slackApi?.(settings, botToken) ??
        lazySlackApi({ apiUrl: settings.api_url, botToken, timeoutMs: settings.timeout_ms });
      return lazyIssuer(name, async () => {
        const { SlackIssuer, slackWebhookBase } = await import("./slack/slack-issuer.js");
        return new SlackIssuer({ name, api, webhookBase: slackWebhookBase(settings.api_url) });
      });
    }
    case "github":
      return new GithubTokenIssuer({
        name,
        api:
          factories.githubTokenApi?.(settings) ??
          lazyGithubTokenApi({ baseUrl: settings.api_url, timeoutMs: settings.timeout_ms }),
        batch: factories.githubBatch,
      });
  }
}
