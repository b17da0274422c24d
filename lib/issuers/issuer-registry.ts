import type { TourniquetConfig } from "../config.js";
import { ConfigError } from "../errors.js";
import { HttpIssuer } from "./http-issuer.js";
import type { Issuer } from "./issuer.js";

/** Token type → issuer, from the config. Types are matched case-insensitively. */
export class IssuerRegistry {
  private readonly byType = new Map<string, Issuer>();

  constructor(issuers: ReadonlyMap<string, Issuer>, routes: Record<string, { issuer: string }>) {
    for (const [type, route] of Object.entries(routes)) {
      const issuer = issuers.get(route.issuer);
      if (issuer) this.byType.set(type.toLowerCase(), issuer);
    }
  }

  static fromConfig(config: TourniquetConfig): IssuerRegistry {
    const issuers = new Map<string, Issuer>();
    for (const [name, settings] of Object.entries(config.issuers)) {
      const secret = config.secrets[name];
      if (secret === undefined) {
        throw new ConfigError(`issuers.${name}.secret: this function did not resolve the issuers' secrets`);
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
}
