import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { TourniquetStack, WORKER_TIMEOUT } from "../../infra/tourniquet-stack.js";
import { TABLE_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from "../../lib/store/table-schema.js";

// Synthesize with the same context (feature flags) that `cdk synth` reads from cdk.json.
const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};

function synth(context: Record<string, unknown> = {}): { stack: TourniquetStack; template: Template } {
  const app = new App({ context: { ...cdkJson.context, ...context } });
  const stack = new TourniquetStack(app, "TourniquetStack");
  return { stack, template: Template.fromStack(stack) };
}

function onlyLogicalId(template: Template, type: string, props?: object): string {
  const ids = Object.keys(template.findResources(type, props));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

const { stack, template } = synth();
const keyId = onlyLogicalId(template, "AWS::KMS::Key");
const keyArn = { "Fn::GetAtt": [keyId, "Arn"] };
const tableId = onlyLogicalId(template, "AWS::DynamoDB::Table");
const queueId = onlyLogicalId(template, "AWS::SQS::Queue", {
  Properties: { RedrivePolicy: Match.anyValue() },
});
const dlqId = onlyLogicalId(template, "AWS::SQS::Queue", {
  Properties: { RedrivePolicy: Match.absent() },
});

describe("KMS key", () => {
  it("is customer-managed with rotation on and is retained", () => {
    template.hasResource("AWS::KMS::Key", {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
    });
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

  it("has exactly the GSIs of TABLE_INDEXES, each with its string keys and all attributes projected", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      GlobalSecondaryIndexes: Match.arrayEquals(
        TABLE_INDEXES.map((index) => ({
          IndexName: index.indexName,
          KeySchema: keySchema(index.partitionKey, index.sortKey),
          Projection: { ProjectionType: "ALL" },
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
  });
});

describe("stage", () => {
  it('defaults to "dev" and names the stack after it', () => {
    expect(stack.stage).toBe("dev");
    expect(stack.stackName).toBe("tourniquet-dev");
    expect(stack.environment).toBe("aws://unknown-account/unknown-region");
  });

  it("comes from the stage context value", () => {
    const { stack: prod } = synth({ stage: "prod-eu" });
    expect(prod.stackName).toBe("tourniquet-prod-eu");
  });

  it.each(["Prod", "prod_eu", "-dev", "dev-", "dev--eu", "", "a".repeat(33), 42])(
    "rejects %j with a clear error",
    (stage) => {
      expect(() => synth({ stage })).toThrow(/^Invalid stage .*: use 1-32 lowercase letters, digits and/);
    },
  );

  it("names the bad value in the error", () => {
    expect(() => synth({ stage: "Prod_1" })).toThrow('Invalid stage "Prod_1"');
  });
});
