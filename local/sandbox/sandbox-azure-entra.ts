import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

// Entra ID's part of the fake Azure: the v2.0 client-credentials token endpoint and the OpenID metadata
// MSAL (inside @azure/identity) reads before it asks for a token. Tokens are real HS256 JWTs signed
// with a per-instance secret, so the fake ARM can check that a bearer token came from here, is unexpired
// and was minted for its audience (the `scope` a client asked for, minus `/.default`).

export const TOKEN_LIFETIME_SECONDS = 3599;

export interface EntraApp {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/** Entra ID's OAuth error body (AADSTS code in `error_description` and `error_codes`). */
export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

export type TokenAnswer =
  | {
      status: 200;
      body: { token_type: "Bearer"; expires_in: number; ext_expires_in: number; access_token: string };
    }
  | { status: 400 | 401; body: EntraErrorBody };

export interface TokenClaims {
  aud: string;
  tid: string;
  appid: string;
  exp: number;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

export class SandboxEntra {
  private readonly signingKey = randomBytes(32);

  constructor(
    private readonly app: EntraApp,
    private readonly now: () => number,
  ) {}

  /** GET /{tenant}/v2.0/.well-known/openid-configuration — the fields MSAL requires, tenant filled in. */
  openIdConfiguration(baseUrl: string, tenant: string): Record<string, unknown> | undefined {
    if (tenant !== this.app.tenantId) return undefined;
    const root = `${baseUrl}/${tenant}`;
    return {
      token_endpoint: `${root}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${baseUrl}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${baseUrl}/${tenant}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${root}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${root}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${root}/oauth2/v2.0/logout`,
      tenant_region_scope: "EU",
      cloud_instance_name: "microsoftonline.com",
    };
  }

  /** POST /{tenant}/oauth2/v2.0/token with a form body; the secret may also come as HTTP Basic. */
  token(tenant: string, form: URLSearchParams, authorization: string | undefined): TokenAnswer {
    if (tenant !== this.app.tenantId) {
      return this.error(400, "invalid_request", 90002, `Tenant '${tenant}' not found.`);
    }
    const grantType = form.get("grant_type");
    if (grantType !== "client_credentials") {
      return this.error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
    }
    const basic = parseBasic(authorization);
    const clientId = form.get("client_id") ?? basic?.id;
    const secret = form.get("client_secret") ?? basic?.secret;
    if (clientId !== this.app.clientId) {
      return this.error(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId ?? ""}' was not found in the directory '${tenant}'.`,
      );
    }
    if (secret === undefined) {
      return this.error(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    if (!sameText(secret, this.app.clientSecret)) {
      return this.error(
        401,
        "invalid_client",
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    // client_credentials takes exactly one `<resource>/.default` scope (MSAL may add none of its own here).
    const scopes = (form.get("scope") ?? "").split(" ").filter((s) => s.endsWith("/.default"));
    if (scopes.length !== 1) {
      return this.error(
        400,
        "invalid_scope",
        70011,
        "The provided value for the input parameter 'scope' is not valid.",
      );
    }
    const audience = scopes[0]?.slice(0, -"/.default".length).replace(/\/+$/, "") ?? "";
    const exp = Math.floor(this.now() / 1000) + TOKEN_LIFETIME_SECONDS;
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        expires_in: TOKEN_LIFETIME_SECONDS,
        ext_expires_in: TOKEN_LIFETIME_SECONDS,
        access_token: this.sign({ aud: audience, tid: tenant, appid: clientId, exp }),
      },
    };
  }

  /** The claims of a token this endpoint issued and that has not expired; undefined otherwise. */
  verify(token: string): TokenClaims | undefined {
    const [header, payload, signature] = token.split(".");
    if (!header || !payload || !signature) return undefined;
    const expected = createHmac("sha256", this.signingKey).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenClaims;
    return claims.exp * 1000 > this.now() ? claims : undefined;
  }

  private sign(claims: TokenClaims): string {
    const head = b64url(JSON.stringify({ typ: "JWT", alg: "HS256" }));
    const body = b64url(JSON.stringify({ ...claims, iat: Math.floor(this.now() / 1000) }));
    const signature = createHmac("sha256", this.signingKey).update(`${head}.${body}`).digest();
    return `${head}.${body}.${b64url(signature)}`;
  }

  /** Entra's error answer; the description ends with trace and correlation ids as the real one does. */
  error(status: 400 | 401, error: string, code: number, text: string): TokenAnswer {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const timestamp = new Date(this.now())
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, "Z");
    return {
      status,
      body: {
        error,
        error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `https://login.microsoftonline.com/error?code=${code}`,
      },
    };
  }
}

function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return {
    id: decodeURIComponent(decoded.slice(0, colon)),
    secret: decodeURIComponent(decoded.slice(colon + 1)),
  };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
