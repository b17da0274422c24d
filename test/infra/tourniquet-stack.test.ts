import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { INTAKE_METRICS, TIME_TO_REVOKE_METRIC } from "../../infra/constructs/tourniquet-alarms.js";
import { ADMIN_ROUTES } from "../../infra/constructs/tourniquet-api.js";
import { FUNCTION_BUNDLES } from "../../infra/function-bundles.js";
import {
  FUNCTION_SIZING,
  INITIAL_CONFIG,
  INTAKE_TIMEOUT,
  LATENCY_CRITICAL,
  SWEEP_RATE,
  WORKER_BATCH_SIZE,
  WORKER_MAX_CONCURRENCY,
  WORKER_TIMEOUT,
} from "../../infra/tourniquet-stack.js";
import { parseConfig } from "../../lib/config.js";
import { projectionOf, TABLE_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from "../../lib/store/table-schema.js";
import { environmentOf, functionId, onlyLogicalId, synth } from "./synth.js";

// One synthesis with the real esbuild bundles (slow); the other cases synthesize without bundling.
const { app, stack, template } = synth({ bundle: true });
const keyId = onlyLogicalId(template, "AWS::KMS::Key", {
  Properties: { Description: "Tourniquet (dev): leak table, queues, secrets and alarm topic" },
});
const tokenKeyId = onlyLogicalId(template, "AWS::KMS::Key", {
  Properties: { Description: "Tourniquet (dev): seals leaked tokens in remediation messages" },
});
const keyArn = { "Fn::GetAtt": [keyId, "Arn"] };
const tableId = onlyLogicalId(template, "AWS::DynamoDB::Table");
const queueId = onlyLogicalId(template, "AWS::SQS::Queue", {
  Properties: { RedrivePolicy: Match.anyValue() },
});
const dlqId = onlyLogicalId(template, "AWS::SQS::Queue", {
  Properties: { RedrivePolicy: Match.absent() },
});
const fnIds = Object.fromEntries(FUNCTION_BUNDLES.map((b) => [b.id, functionId(template, b.id)])) as Record<
  (typeof FUNCTION_BUNDLES)[number]["id"],
  string
>;

describe("KMS keys", () => {
  it("are two customer-managed keys (data, token sealing) with rotation on, retained", () => {
    for (const id of [keyId, tokenKeyId]) {
      expect(template.findResources("AWS::KMS::Key")[id]).toMatchObject({
        Properties: { EnableKeyRotation: true },
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
      });
    }
  });

  it("lets CloudWatch alarms publish to the encrypted alarm topic through the data key", () => {
    const policy = template.findResources("AWS::KMS::Key")[keyId]?.Properties.KeyPolicy;
    expect(JSON.stringify(policy)).toContain("cloudwatch.amazonaws.com");
    const tokenPolicy = template.findResources("AWS::KMS::Key")[tokenKeyId]?.Properties.KeyPolicy;
    expect(JSON.stringify(tokenPolicy)).not.toContain("cloudwatch.amazonaws.com");
  });
});

describe("leak table", () => {
  const keySchema = (partitionKey: string, sortKey: string) => [
    { AttributeName: partitionKey, KeyType: "HASH" },
    { AttributeName: sortKey, KeyType: "RANGE" },
  ];

  it("has the pk/sk string keys from table-schema.ts", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: keySchema(TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey),
    });
  });

  it("defines every key attribute, and only those, as a string", () => {
    const names = [
      TABLE_KEYS.partitionKey,
      TABLE_KEYS.sortKey,
      ...TABLE_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey]),
    ];
    const table = template.findResources("AWS::DynamoDB::Table")[tableId];
    const definitions = table?.Properties.AttributeDefinitions as { AttributeName: string }[];
    expect(definitions).toHaveLength(names.length);
    expect(definitions).toEqual(
      expect.arrayContaining(names.map((name) => ({ AttributeName: name, AttributeType: "S" }))),
    );
  });

  it("has exactly the GSIs of TABLE_INDEXES, each with its string keys and projection", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      GlobalSecondaryIndexes: Match.arrayEquals(
        TABLE_INDEXES.map((index) => ({
          IndexName: index.indexName,
          KeySchema: keySchema(index.partitionKey, index.sortKey),
          Projection: projectionOf(index),
        })),
      ),
    });
  });

  it("bills on demand, with point-in-time recovery and deletion protection", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it("is encrypted with the customer-managed key", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      SSESpecification: { SSEEnabled: true, SSEType: "KMS", KMSMasterKeyId: keyArn },
    });
  });

  it("expires items on the TTL attribute from table-schema.ts", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    });
  });

  it("is retained when removed from the stack or replaced", () => {
    template.hasResource("AWS::DynamoDB::Table", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });
});

describe("remediation queue", () => {
  const queue = () => template.findResources("AWS::SQS::Queue")[queueId]?.Properties;
  const dlq = () => template.findResources("AWS::SQS::Queue")[dlqId]?.Properties;

  it("is encrypted with the key, as is its dead-letter queue", () => {
    expect(queue()).toMatchObject({ KmsMasterKeyId: keyArn });
    expect(dlq()).toMatchObject({ KmsMasterKeyId: keyArn });
  });

  it("redrives to the dead-letter queue after 5 receives", () => {
    expect(queue()?.RedrivePolicy).toEqual({
      deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] },
      maxReceiveCount: 5,
    });
  });

  it("hides a message for 6x the worker timeout, longer than the worker can run", () => {
    const visibility = queue()?.VisibilityTimeout as number;
    expect(visibility).toBeGreaterThan(WORKER_TIMEOUT.toSeconds());
    expect(visibility).toBe(6 * WORKER_TIMEOUT.toSeconds());
  });

  it("keeps dead letters for 14 days", () => {
    expect(dlq()?.MessageRetentionPeriod).toBe(14 * 24 * 60 * 60);
  });

  it.each([
    ["queue", queueId],
    ["dead-letter queue", dlqId],
  ])("denies non-TLS access to the %s", (_name, id) => {
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [{ Ref: id }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Action: "sqs:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });
});

describe("outputs", () => {
  it("exports the table name, queue URL and key ARN", () => {
    template.hasOutput("TableName", { Value: { Ref: tableId } });
    template.hasOutput("QueueUrl", { Value: { Ref: queueId } });
    template.hasOutput("KeyArn", { Value: keyArn });
    template.hasOutput("TokenKeyArn", { Value: { "Fn::GetAtt": [tokenKeyId, "Arn"] } });
  });

  it("exports the partner report URL, config parameter, secrets, alarm topic and admin user pool", () => {
    const outputs = template.findOutputs("*");
    expect(JSON.stringify(outputs.PartnerReportUrl?.Value)).toContain("v1/github/secret-scanning");
    expect(JSON.stringify(outputs.GithubWebhookUrl?.Value)).toContain("v1/github/webhooks");
    for (const name of [
      "ApiUrl",
      "ConfigParameterName",
      "SecretsArn",
      "ChannelSecretsArn",
      "GithubAppSecretsArn",
      "AlarmTopicArn",
      "AdminUserPoolId",
      "AdminUserPoolClientId",
    ]) {
      expect(outputs[name], name).toBeDefined();
    }
  });
});

describe("stage", () => {
  it('defaults to "dev" and names the stack after it', () => {
    expect(stack.stage).toBe("dev");
    expect(stack.stackName).toBe("tourniquet-dev");
    expect(stack.environment).toBe("aws://unknown-account/unknown-region");
  });

  it("comes from the stage context value", () => {
    const { stack: prod } = synth({ context: { stage: "prod-eu" } });
    expect(prod.stackName).toBe("tourniquet-prod-eu");
  });

  it.each(["Prod", "prod_eu", "-dev", "dev-", "dev--eu", "", "a".repeat(33), 42])(
    "rejects %j with a clear error",
    (stage) => {
      expect(() => synth({ context: { stage } })).toThrow(
        /^Invalid stage .*: use 1-32 lowercase letters, digits and/,
      );
    },
  );

  it("names the bad value in the error", () => {
    expect(() => synth({ context: { stage: "Prod_1" } })).toThrow('Invalid stage "Prod_1"');
  });
});

describe("functions", () => {
  it.each(FUNCTION_BUNDLES.map((b) => b.id))(
    "%s runs Node.js 22 on ARM64 with its sizing and ESM bundle",
    (id) => {
      const fn = template.findResources("AWS::Lambda::Function")[fnIds[id]]?.Properties;
      expect(fn).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        Timeout: FUNCTION_SIZING[id].timeout.toSeconds(),
        MemorySize: FUNCTION_SIZING[id].memorySize,
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: "tourniquet",
            POWERTOOLS_METRICS_NAMESPACE: "Tourniquet",
            LOG_LEVEL: "DEBUG",
          },
        },
      });
    },
  );

  it.each(FUNCTION_BUNDLES.map((b) => b.id))(
    "%s maps stack traces to the sources at run time unless GitHub waits on it (cold start)",
    (id) => {
      const variables = environmentOf(template, fnIds[id]);
      if (LATENCY_CRITICAL.has(id)) expect(variables).not.toHaveProperty("NODE_OPTIONS");
      else expect(variables).toMatchObject({ NODE_OPTIONS: "--enable-source-maps" });
    },
  );

  it("answers GitHub well inside API Gateway's 29 s: intake timeout 25 s, worker 30 s", () => {
    expect(INTAKE_TIMEOUT.toSeconds()).toBeLessThan(29);
    expect(FUNCTION_SIZING.PartnerReport.timeout.toSeconds()).toBe(25);
    expect(FUNCTION_SIZING.Remediate.timeout).toBe(WORKER_TIMEOUT);
  });

  it.each(FUNCTION_BUNDLES.map((b) => b.id))(
    "%s logs to its own retained log group with a retention",
    (id) => {
      const fn = template.findResources("AWS::Lambda::Function")[fnIds[id]]?.Properties;
      const logGroupId = (fn?.LoggingConfig?.LogGroup as { Ref: string } | undefined)?.Ref ?? "";
      expect(template.findResources("AWS::Logs::LogGroup")[logGroupId]).toMatchObject({
        Properties: { RetentionInDays: 30 },
        DeletionPolicy: "Retain",
      });
    },
  );

  it("gives the worker the message templates, copied into its bundle", () => {
    expect(environmentOf(template, fnIds.Remediate)).toMatchObject({
      TOURNIQUET_TEMPLATES_DIR: "/var/task/templates",
    });
    expect(environmentOf(template, fnIds.PartnerReport)).not.toHaveProperty("TOURNIQUET_TEMPLATES_DIR");
    const assets = readdirSync(app.outdir).filter((name) => name.startsWith("asset."));
    const withTemplates = assets.filter((name) =>
      existsSync(join(app.outdir, name, "templates", "leak-notification.txt")),
    );
    expect(withTemplates).toHaveLength(1);
    expect(existsSync(join(app.outdir, withTemplates[0] as string, "index.mjs"))).toBe(true);
    expect(existsSync(join(app.outdir, withTemplates[0] as string, "index.mjs.map"))).toBe(true);
  });

  it("ships Azure's SDKs in the intake's asset as a chunk of their own, not in its index.mjs", () => {
    const fn = template.findResources("AWS::Lambda::Function")[fnIds.PartnerReport]?.Properties;
    const key = String(fn?.Code?.S3Key ?? "");
    expect(key).toMatch(/^[0-9a-f]{64}\.zip$/);
    const asset = join(app.outdir, `asset.${key.replace(/\.zip$/, "")}`);
    expect(readFileSync(join(asset, "index.mjs"), "utf8")).not.toMatch(/msal/i);
    const chunks = readdirSync(join(asset, "chunks")).filter((name) =>
      name.startsWith("azure-arm-management-"),
    );
    expect(chunks.filter((name) => name.endsWith(".mjs"))).toHaveLength(1);
    const chunk = readFileSync(join(asset, "chunks", chunks.find((n) => n.endsWith(".mjs")) ?? ""), "utf8");
    expect(chunk).toMatch(/msal/i);
  });

  it("consumes the queue with partial batch failures, a bounded batch and concurrency", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: fnIds.Remediate },
      EventSourceArn: { "Fn::GetAtt": [queueId, "Arn"] },
      BatchSize: WORKER_BATCH_SIZE,
      ScalingConfig: { MaximumConcurrency: WORKER_MAX_CONCURRENCY },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
  });
});

describe("schedule", () => {
  it("is the one docs/deploy.md describes to operators: its rule and rate", () => {
    const deployDoc = readFileSync(new URL("../../docs/deploy.md", import.meta.url), "utf8");
    expect(deployDoc).not.toMatch(/no periodic job is scheduled/i);
    expect(deployDoc).toContain(`rule \`SweepSchedule\` (\`rate(${SWEEP_RATE.toMinutes()} minutes)\``);
    expect(Object.keys(template.findResources("AWS::Events::Rule"))).toEqual([
      expect.stringMatching(/^SweepSchedule/),
    ]);
  });

  it("runs the sweep every 5 minutes, without retries that could overlap the next run", () => {
    const rules = Object.values(template.findResources("AWS::Events::Rule"));
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties).toMatchObject({
      ScheduleExpression: `rate(${SWEEP_RATE.toMinutes()} minutes)`,
      State: "ENABLED",
      Targets: [
        expect.objectContaining({
          Arn: { "Fn::GetAtt": [fnIds.Sweep, "Arn"] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: fnIds.Sweep },
      MaximumRetryAttempts: 0,
    });
    template.hasResourceProperties("AWS::Lambda::Permission", {
      Action: "lambda:InvokeFunction",
      FunctionName: { "Fn::GetAtt": [fnIds.Sweep, "Arn"] },
      Principal: "events.amazonaws.com",
    });
  });

  it("gives a run a minute, well inside the rate, so runs do not pile up", () => {
    expect(FUNCTION_SIZING.Sweep.timeout.toSeconds()).toBeLessThan(SWEEP_RATE.toSeconds() / 2);
  });
});

describe("configuration", () => {
  it("keeps the config in an SSM String parameter whose initial value is a valid config", () => {
    const parameter = template.findResources("AWS::SSM::Parameter");
    const props = Object.values(parameter)[0]?.Properties;
    expect(props).toMatchObject({ Name: "/tourniquet/dev/config", Type: "String" });
    expect(JSON.parse(props?.Value as string)).toEqual(INITIAL_CONFIG);
    expect(() => parseConfig(JSON.parse(props?.Value as string), {})).not.toThrow();
  });

  it("keeps issuer, channel and GitHub App secrets in a secret each, encrypted with the data key and retained", () => {
    const names = [
      "tourniquet/dev/secrets",
      "tourniquet/dev/channel-secrets",
      "tourniquet/dev/github-app-secrets",
    ];
    for (const name of names) {
      template.hasResource("AWS::SecretsManager::Secret", {
        Properties: { Name: name, KmsKeyId: keyArn },
        DeletionPolicy: "Retain",
      });
    }
    expect(Object.keys(template.findResources("AWS::SecretsManager::Secret"))).toHaveLength(3);
  });
});

describe("HTTP API", () => {
  const routes = () =>
    Object.values(template.findResources("AWS::ApiGatewayV2::Route")).map((r) => r.Properties);

  it("has the partner, webhook, admin and health routes", () => {
    expect(
      routes()
        .map((r) => r.RouteKey)
        .sort(),
    ).toEqual(
      [
        "POST /v1/github/secret-scanning",
        "POST /v1/github/webhooks",
        "GET /healthz",
        "GET /admin",
        "GET /admin/{proxy+}",
        ...ADMIN_ROUTES.map(([method, path]) => `${method} ${path}`),
      ].sort(),
    );
  });

  it("puts every admin route, and only those, behind the JWT authorizer", () => {
    const authorizerId = onlyLogicalId(template, "AWS::ApiGatewayV2::Authorizer", {
      Properties: { AuthorizerType: "JWT" },
    });
    for (const route of routes()) {
      if (String(route.RouteKey).includes("/v1/admin/")) {
        expect(route, route.RouteKey).toMatchObject({
          AuthorizationType: "JWT",
          AuthorizerId: { Ref: authorizerId },
        });
      } else {
        expect(route.AuthorizationType ?? "NONE", route.RouteKey).toBe("NONE");
      }
    }
  });

  it("creates a Cognito user pool for administrators: invite only, MFA required", () => {
    template.hasResourceProperties("AWS::Cognito::UserPool", {
      MfaConfiguration: "ON",
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
  });

  it("tells the admin function which claim and values may read and act (ADMIN_ACCESS)", () => {
    expect(JSON.parse(String(environmentOf(template, fnIds.AdminApi).ADMIN_ACCESS))).toEqual({
      claim: "cognito:groups",
      read: ["tourniquet-admins"],
      write: ["tourniquet-responders"],
    });
  });

  it("creates the admin groups in the user pool it creates", () => {
    const groups = Object.values(template.findResources("AWS::Cognito::UserPoolGroup")).map(
      (g) => g.Properties.GroupName,
    );
    expect(groups.sort()).toEqual(["tourniquet-admins", "tourniquet-responders"]);
  });

  it("has API Gateway check the scopes too when scopes are the admin claim", () => {
    const { template: scoped } = synth({
      stages: {
        dev: {
          jwt: { issuer: "https://login.example.com/", audience: ["tourniquet-admin"] },
          adminAccess: { claim: "scope", read: ["tourniquet/read"], write: ["tourniquet/respond"] },
        },
      },
    });
    const scopes = Object.fromEntries(
      Object.values(scoped.findResources("AWS::ApiGatewayV2::Route"))
        .filter((r) => String(r.Properties.RouteKey).includes("/v1/admin/"))
        .map((r) => [r.Properties.RouteKey, r.Properties.AuthorizationScopes]),
    );
    expect(scopes).toEqual({
      "GET /v1/admin/leaks": ["tourniquet/read", "tourniquet/respond"],
      "GET /v1/admin/leaks/export": ["tourniquet/read", "tourniquet/respond"],
      "GET /v1/admin/leaks/{id}": ["tourniquet/read", "tourniquet/respond"],
      "GET /v1/admin/overview": ["tourniquet/read", "tourniquet/respond"],
      "POST /v1/admin/leaks/{id}/retry": ["tourniquet/respond"],
      "POST /v1/admin/leaks/{id}/dismiss": ["tourniquet/respond"],
    });
    // Groups are checked by the function alone: the gateway cannot read them.
    for (const route of routes()) expect(route.AuthorizationScopes).toBeUndefined();
  });

  it("uses a given OIDC issuer instead of creating a user pool", () => {
    const { template: withIssuer } = synth({
      stages: { dev: { jwt: { issuer: "https://login.example.com/", audience: ["tourniquet-admin"] } } },
    });
    withIssuer.resourceCountIs("AWS::Cognito::UserPool", 0);
    withIssuer.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      JwtConfiguration: { Issuer: "https://login.example.com/", Audience: ["tourniquet-admin"] },
    });
  });

  it("throttles the stage and writes JSON access logs", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp("requestId") },
    });
  });
});

describe("alarms", () => {
  const alarms = () =>
    Object.values(template.findResources("AWS::CloudWatch::Alarm")).map((a) => a.Properties);
  const topicId = onlyLogicalId(template, "AWS::SNS::Topic");

  it("sends every alarm to the encrypted alarm topic", () => {
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: keyArn });
    for (const alarm of alarms()) expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  it("fires on any dead letter", () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }],
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );
  });

  it.each(FUNCTION_BUNDLES.map((b) => b.id))("fires on %s errors and throttles", (id) => {
    for (const metric of ["Errors", "Throttles"]) {
      expect(alarms()).toContainEqual(
        expect.objectContaining({
          Namespace: "AWS/Lambda",
          MetricName: metric,
          Dimensions: [{ Name: "FunctionName", Value: { Ref: fnIds[id] } }],
        }),
      );
    }
  });

  it("fires on API 4xx and 5xx spikes", () => {
    const api = alarms()
      .filter((a) => a.Namespace === "AWS/ApiGateway")
      .map((a) => a.MetricName);
    expect(api.sort()).toEqual(["4xx", "5xx"]);
  });

  it("fires when the p99 time to revoke is above 250 ms", () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: TIME_TO_REVOKE_METRIC.namespace,
        MetricName: "TimeToRevoke",
        ExtendedStatistic: "p99",
        Threshold: 250,
      }),
    );
  });

  it("charts time to revoke, the intake's report and token counts, and the worker's outcomes", () => {
    const body = JSON.stringify(Object.values(template.findResources("AWS::CloudWatch::Dashboard"))[0]);
    for (const metric of ["TimeToRevoke", ...INTAKE_METRICS, "LeaksRevoked", "LeaksFailed"]) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
  });

  it("subscribes the stage's alarm email", () => {
    template.resourceCountIs("AWS::SNS::Subscription", 0);
    const { template: prod } = synth({ context: { stage: "prod" } });
    prod.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "security@example.com",
    });
  });
});
