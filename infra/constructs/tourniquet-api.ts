import { Duration, RemovalPolicy } from "aws-cdk-lib";
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
import { AccountRecovery, Mfa, UserPool, type UserPoolClient, UserPoolGroup } from "aws-cdk-lib/aws-cognito";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ADMIN_ROUTE_NEEDS, type AdminPermission } from "../../lib/admin/admin-access.js";
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
  readonly healthz: IFunction;
}

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
      authorizer = new HttpJwtAuthorizer("AdminJwt", props.settings.jwt.issuer, {
        jwtAudience: props.settings.jwt.audience,
      });
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
      this.userPoolClient = this.userPool.addClient("AdminClient", {
        authFlows: { userSrp: true },
        generateSecret: false,
        preventUserExistenceErrors: true,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
      });
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
