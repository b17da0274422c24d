import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Validations } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { CONSOLE_CALLBACK_PATH, CONSOLE_PATH } from "../../infra/constructs/tourniquet-api.js";
import { AwsSolutionsChecks } from "../../infra/nag.js";
import { resolveStageSettings } from "../../infra/stages.js";
import { actionsOf, environmentOf, functionId, onlyLogicalId, statementsOf, synth } from "./synth.js";

// The admin console on the deployed stack: its function and public routes, the Cognito hosted sign-in
// and PKCE client it uses, or an external issuer's, and what the function may touch (nothing).

const { app, template } = synth({ bundle: true });
const consoleFn = functionId(template, "AdminConsole");
const routes = () =>
  Object.values(template.findResources("AWS::ApiGatewayV2::Route")).map((r) => r.Properties);
const consoleAuthOf = (t = template) =>
  environmentOf(t, functionId(t, "AdminConsole")).CONSOLE_AUTH as unknown;
/** CONSOLE_AUTH as the template has it: a JSON string with CloudFormation references joined in. */
const joinedJson = (value: unknown) => JSON.stringify(value);

describe("console routes", () => {
  it("serves /admin and everything under it from the console function, without the authorizer", () => {
    const consoleRoutes = routes().filter((r) => String(r.RouteKey).startsWith("GET /admin"));
    expect(consoleRoutes.map((r) => r.RouteKey).sort()).toEqual(["GET /admin", "GET /admin/{proxy+}"]);
    for (const route of consoleRoutes) expect(route.AuthorizationType ?? "NONE").toBe("NONE");
    const integrations = template.findResources("AWS::ApiGatewayV2::Integration");
    for (const route of consoleRoutes) {
      const target = String(route.Target?.["Fn::Join"]?.[1]?.[1]?.Ref ?? "");
      expect(JSON.stringify(integrations[target]?.Properties.IntegrationUri)).toContain(consoleFn);
    }
  });

  it("keeps every admin API route behind the JWT authorizer", () => {
    const admin = routes().filter((r) => String(r.RouteKey).includes("/v1/admin/"));
    expect(admin.length).toBeGreaterThan(3);
    for (const route of admin) expect(route.AuthorizationType, route.RouteKey).toBe("JWT");
  });
});

describe("console function", () => {
  it("ships the built console beside its handler: the page and hashed assets, nothing from a CDN", () => {
    const fn = template.findResources("AWS::Lambda::Function")[consoleFn]?.Properties;
    const asset = join(app.outdir, `asset.${String(fn?.Code?.S3Key ?? "").replace(/\.zip$/, "")}`);
    expect(existsSync(join(asset, "index.mjs"))).toBe(true);
    const html = readFileSync(join(asset, "console", "index.html"), "utf8");
    expect(html).not.toMatch(/https?:\/\//);
    expect(readdirSync(join(asset, "console"), { recursive: true }).join(" ")).toMatch(/\.js\b/);
    // Only the console's function carries it.
    const others = readdirSync(app.outdir).filter(
      (name) => name.startsWith("asset.") && existsSync(join(app.outdir, name, "console", "index.html")),
    );
    expect(others).toEqual([`asset.${String(fn?.Code?.S3Key ?? "").replace(/\.zip$/, "")}`]);
  });

  it("may touch nothing: no table, queue, key, parameter or secret", () => {
    // Beyond its own logs (AWSLambdaBasicExecutionRole, a managed policy): no statement at all.
    expect(statementsOf(template, consoleFn).flatMap(actionsOf)).toEqual([]);
    const variables = Object.keys(environmentOf(template, consoleFn));
    expect(variables).not.toContain("TABLE_NAME");
    expect(variables).not.toContain("QUEUE_URL");
  });
});

describe("sign-in with the created user pool", () => {
  it("creates a hosted sign-in domain named after the stage and account", () => {
    const domain = onlyLogicalId(template, "AWS::Cognito::UserPoolDomain");
    const props = template.findResources("AWS::Cognito::UserPoolDomain")[domain]?.Properties;
    expect(joinedJson(props?.Domain)).toContain("tourniquet-dev");
    expect(joinedJson(props?.Domain)).toContain("AWS::AccountId");
  });

  it("gives the admin client the code flow as a public client, returning to the console only", () => {
    const client = Object.values(template.findResources("AWS::Cognito::UserPoolClient"))[0]?.Properties;
    expect(client).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlows: ["code"],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: expect.arrayContaining(["openid", "email", "profile"]),
      SupportedIdentityProviders: ["COGNITO"],
    });
    expect(client?.AllowedOAuthFlows).not.toContain("implicit");
    // The API's own URL: its callback page, and the console itself after signing out.
    expect(client?.CallbackURLs).toHaveLength(1);
    expect(joinedJson(client?.CallbackURLs)).toContain(`"${CONSOLE_CALLBACK_PATH}"`);
    expect(joinedJson(client?.CallbackURLs)).toContain("ApiEndpoint");
    expect(client?.LogoutURLs).toHaveLength(1);
    expect(joinedJson(client?.LogoutURLs)).toContain(`"${CONSOLE_PATH}"`);
  });

  it("tells the console the issuer, client and hosted endpoints, and to present the ID token", () => {
    const auth = joinedJson(consoleAuthOf());
    for (const part of ['\\"auth\\":\\"oidc\\"', "/oauth2/authorize", "/oauth2/token", "/logout", "id_token"])
      expect(auth).toContain(part);
    expect(auth).toContain("ProviderURL");
  });

  it("takes another domain prefix and more return URLs from the stage settings", () => {
    const { template: custom } = synth({
      stages: {
        dev: {
          console: {
            cognitoDomainPrefix: "acme-tq-admin",
            origins: ["https://admin.example.com"],
          },
        },
      },
    });
    custom.hasResourceProperties("AWS::Cognito::UserPoolDomain", { Domain: "acme-tq-admin" });
    const client = Object.values(custom.findResources("AWS::Cognito::UserPoolClient"))[0]?.Properties;
    expect(client?.CallbackURLs).toHaveLength(2);
    expect(client?.CallbackURLs).toContain("https://admin.example.com/admin/callback");
    expect(client?.LogoutURLs).toContain("https://admin.example.com/admin");
  });

  it("refuses a prefix Cognito would refuse, naming the field", () => {
    expect(() =>
      resolveStageSettings("dev", { dev: { console: { cognitoDomainPrefix: "my-cognito" } } }),
    ).toThrow(/console\.cognitoDomainPrefix: must not contain aws, amazon or cognito/);
    expect(() =>
      resolveStageSettings("dev", { dev: { console: { origins: ["https://x.example/admin"] } } }),
    ).toThrow(/console\.origins\.0: must be an origin, without a path/);
  });
});

describe("sign-in with an external issuer", () => {
  const issuer = "https://login.example.com/tenant/v2.0";
  const signIn = {
    clientId: "console-client",
    authorizationEndpoint: "https://login.example.com/tenant/authorize",
    tokenEndpoint: "https://login.example.com/tenant/token",
  };

  it("hands the console the configured client and endpoints, presenting the access token by default", () => {
    const { template: external } = synth({
      stages: { dev: { jwt: { issuer, audience: ["api://tq"], console: signIn } } },
    });
    external.resourceCountIs("AWS::Cognito::UserPoolDomain", 0);
    expect(JSON.parse(String(consoleAuthOf(external)))).toEqual({
      auth: "oidc",
      issuer,
      client_id: "console-client",
      authorization_endpoint: signIn.authorizationEndpoint,
      token_endpoint: signIn.tokenEndpoint,
      scopes: ["openid", "profile", "email"],
      token: "access_token",
    });
  });

  it("without a console client, says the console cannot sign in and where to configure it", () => {
    const { template: external } = synth({ stages: { dev: { jwt: { issuer, audience: ["api://tq"] } } } });
    const auth = JSON.parse(String(consoleAuthOf(external))) as { auth: string; reason: string };
    expect(auth.auth).toBe("none");
    expect(auth.reason).toContain("jwt.console");
  });

  it("refuses endpoints that are not https", () => {
    expect(() =>
      resolveStageSettings("dev", {
        dev: {
          jwt: {
            issuer,
            audience: ["a"],
            console: { ...signIn, tokenEndpoint: "http://login.example.com/t" },
          },
        },
      }),
    ).toThrow(/jwt\.console\.tokenEndpoint/);
  });
});

describe("cdk-nag AwsSolutions", () => {
  it.each([
    ["the created user pool", {}],
    ["an external issuer", { jwt: { issuer: "https://login.example.com/", audience: ["a"] } }],
  ])("finds nothing unacknowledged with the console and %s", (_name, settings) => {
    const { app: nagged } = synth({ stages: { dev: settings } });
    Validations.of(nagged).addPlugins(new AwsSolutionsChecks(nagged));
    expect(() => nagged.synth()).not.toThrow();
  });
});
