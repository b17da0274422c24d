import { Aws, Duration, Fn, RemovalPolicy } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpJwtAuthorizer, HttpUserPoolAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import {
  AccountRecovery,
  Mfa,
  OAuthScope,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
  UserPoolGroup,
} from "aws-cdk-lib/aws-cognito";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ADMIN_ROUTE_NEEDS, type AdminPermission } from "../../lib/admin/admin-access.js";
import type { ConsoleAuthSetting } from "../../lib/console/console-auth.js";
import { acknowledge } from "../nag.js";
import type { StageSettings } from "../stages.js";

/** The admin routes, all behind the JWT authorizer, and what each needs (stage setting `adminAccess`). */
export const ADMIN_ROUTES = Object.entries(ADMIN_ROUTE_NEEDS).map(([routeKey, needs]) => {
  const [method, path] = routeKey.split(" ") as [HttpMethod, string];
  return [method, path, needs] as const;
});

/** Claims API Gateway itself can check on a route (`authorizationScopes`); groups it cannot. */
const SCOPE_CLAIMS = new Set(["scope", "scp"]);

export interface TourniquetApiProps {
  readonly stage: string;
  readonly settings: StageSettings;
  readonly logRetention: RetentionDays;
  readonly partnerReport: IFunction;
  readonly githubWebhook: IFunction;
  readonly adminApi: IFunction;
  /** The console's page and assets at /admin/ (public: every data call it makes carries a JWT). */
  readonly adminConsole: IFunction;
  readonly healthz: IFunction;
}

/**
 * Where the console lives on the API (the overview; its pages are under it) and where a sign-in returns
 * to. Without the slash: `/admin` is a route of its own, which API Gateway surely matches.
 */
export const CONSOLE_PATH = "/admin";
export const CONSOLE_CALLBACK_PATH = "/admin/callback";

/**
 * The HTTP API: GitHub's partner reports and GitHub App webhooks (public; the handlers verify GitHub's
 * ECDSA signature and the webhook's HMAC),
 * the admin API behind a JWT authorizer (an existing OIDC issuer from the stage settings, or a Cognito
 * user pool created here), and /healthz. Throttled per stage, with JSON access logs.
 */
export class TourniquetApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  readonly userPool?: UserPool;
  readonly userPoolClient?: UserPoolClient;
  readonly userPoolDomain?: UserPoolDomain;
  /** How the console signs in (CONSOLE_AUTH), or undefined when the stage configures no way. */
  readonly consoleAuth?: ConsoleAuthSetting;

  constructor(scope: Construct, id: string, props: TourniquetApiProps) {
    super(scope, id);

    this.api = new HttpApi(this, "HttpApi", {
      apiName: `tourniquet-${props.stage}`,
      description: `Tourniquet (${props.stage}): GitHub secret scanning reports and the admin API`,
      createDefaultStage: false,
    });

    this.accessLogs = new LogGroup(this, "AccessLogs", {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new HttpStage(this, "DefaultStage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      throttle: props.settings.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        // Standard fields only: no headers or bodies, so no token can reach the access log.
        format: AccessLogFormat.jsonWithStandardFields(),
      },
    });

    let authorizer: IHttpRouteAuthorizer;
    if (props.settings.jwt) {
      const { issuer, audience, console: signIn } = props.settings.jwt;
      authorizer = new HttpJwtAuthorizer("AdminJwt", issuer, { jwtAudience: audience });
      if (signIn) {
        this.consoleAuth = {
          auth: "oidc",
          issuer,
          client_id: signIn.clientId,
          authorization_endpoint: signIn.authorizationEndpoint,
          token_endpoint: signIn.tokenEndpoint,
          ...(signIn.endSessionEndpoint ? { end_session_endpoint: signIn.endSessionEndpoint } : {}),
          scopes: signIn.scopes,
          token: signIn.token,
        };
      }
    } else {
      this.userPool = new UserPool(this, "AdminUsers", {
        userPoolName: `tourniquet-${props.stage}-admins`,
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        mfa: Mfa.REQUIRED,
        mfaSecondFactor: { otp: true, sms: false },
        passwordPolicy: {
          minLength: 14,
          requireLowercase: true,
          requireUppercase: true,
          requireDigits: true,
          requireSymbols: true,
          tempPasswordValidity: Duration.days(3),
        },
        accountRecovery: AccountRecovery.EMAIL_ONLY,
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(
        this.userPool,
        "Administrators are a handful of invited users (no self sign-up) with TOTP MFA required; the " +
          "Plus feature plan's threat protection is a per-user cost the operator can enable later.",
        "AwsSolutions-COG3",
        "AwsSolutions-COG8",
      );
      // The console signs in through Cognito's hosted pages: authorization code with PKCE, as a public
      // client (no secret: a browser cannot keep one), returning to the console on the API's own URL.
      const origins = [this.api.apiEndpoint, ...props.settings.console.origins.map((o) => new URL(o).origin)];
      this.userPoolDomain = this.userPool.addDomain("AdminSignIn", {
        cognitoDomain: {
          domainPrefix:
            props.settings.console.cognitoDomainPrefix ??
            Fn.join("-", ["tourniquet", props.stage, Aws.ACCOUNT_ID]),
        },
      });
      this.userPoolClient = this.userPool.addClient("AdminClient", {
        authFlows: { userSrp: true },
        generateSecret: false,
        preventUserExistenceErrors: true,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
        // A stolen refresh token outlives a session only by this much.
        refreshTokenValidity: Duration.hours(12),
        supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
        oAuth: {
          flows: { authorizationCodeGrant: true },
          scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
          callbackUrls: origins.map((origin) => `${origin}${CONSOLE_CALLBACK_PATH}`),
          logoutUrls: origins.map((origin) => `${origin}${CONSOLE_PATH}`),
        },
      });
      const hosted = this.userPoolDomain.baseUrl();
      // The ID token: its audience is the client the authorizer accepts, and it carries the verified
      // email the timeline names an administrator by, and the groups the admin API checks.
      this.consoleAuth = {
        auth: "oidc",
        issuer: this.userPool.userPoolProviderUrl,
        client_id: this.userPoolClient.userPoolClientId,
        authorization_endpoint: `${hosted}/oauth2/authorize`,
        token_endpoint: `${hosted}/oauth2/token`,
        end_session_endpoint: `${hosted}/logout`,
        scopes: ["openid", "email", "profile"],
        token: "id_token",
      };
      authorizer = new HttpUserPoolAuthorizer("AdminUserPool", this.userPool, {
        userPoolClients: [this.userPoolClient],
      });
      // The groups the admin API asks for (the default), so an operator only adds users to them.
      const { claim, read, write } = props.settings.adminAccess;
      if (claim === "cognito:groups") {
        for (const [i, groupName] of [...new Set([...read, ...write])].entries()) {
          new UserPoolGroup(this, `AdminGroup${i}`, {
            userPool: this.userPool,
            groupName,
            description: write.includes(groupName)
              ? "Tourniquet: may read leaks, retry and dismiss"
              : "Tourniquet: may read leaks",
          });
        }
      }
    }

    // Public, by design: GitHub cannot present a JWT. Every request must carry GitHub's signature,
    // which the handler verifies before anything is parsed or stored.
    const publicRoute = (path: string, fn: IFunction, integrationId: string, why: string) => {
      const routes = this.api.addRoutes({
        path,
        methods: [path === "/healthz" ? HttpMethod.GET : HttpMethod.POST],
        integration: new HttpLambdaIntegration(integrationId, fn),
      });
      for (const route of routes) acknowledge(route, why, "AwsSolutions-APIG4");
    };
    publicRoute(
      "/v1/github/secret-scanning",
      props.partnerReport,
      "PartnerReportIntegration",
      "Called by GitHub's secret scanning, which signs each request (ECDSA P-256) instead of " +
        "authenticating; the handler rejects unsigned or badly signed requests.",
    );
    publicRoute(
      "/v1/github/webhooks",
      props.githubWebhook,
      "GithubWebhookIntegration",
      "Called by GitHub for the App's webhooks, which it signs (HMAC-SHA256 with the webhook secret) " +
        "instead of authenticating; the handler rejects unsigned or badly signed deliveries.",
    );
    publicRoute(
      "/healthz",
      props.healthz,
      "HealthzIntegration",
      "Liveness probe: answers a constant and touches no data.",
    );

    // Public, by design: the page and its assets hold no data. Every call the page makes to the admin
    // API carries the administrator's JWT, which the routes below require.
    const consoleIntegration = new HttpLambdaIntegration("AdminConsoleIntegration", props.adminConsole);
    for (const path of ["/admin", "/admin/{proxy+}"]) {
      const routes = this.api.addRoutes({ path, methods: [HttpMethod.GET], integration: consoleIntegration });
      for (const route of routes)
        acknowledge(
          route,
          "The admin console's static page, assets and sign-in settings: no data; the admin API it calls " +
            "is behind the JWT authorizer.",
          "AwsSolutions-APIG4",
        );
    }

    // The function checks the claim on every call; when the claim is OAuth scopes, API Gateway checks
    // them as well, so a token without one never reaches the function.
    const access = props.settings.adminAccess;
    const scopesFor = (needs: AdminPermission) =>
      SCOPE_CLAIMS.has(access.claim)
        ? [...new Set(needs === "read" ? [...access.read, ...access.write] : access.write)]
        : undefined;
    const adminIntegration = new HttpLambdaIntegration("AdminIntegration", props.adminApi);
    for (const [method, path, needs] of ADMIN_ROUTES) {
      this.api.addRoutes({
        path,
        methods: [method],
        integration: adminIntegration,
        authorizer,
        authorizationScopes: scopesFor(needs),
      });
    }
  }
}
