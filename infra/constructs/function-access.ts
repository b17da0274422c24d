import { Arn, ArnFormat, type CfnResource, Stack } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { IStringParameter } from "aws-cdk-lib/aws-ssm";
import { acknowledge } from "../nag.js";

/**
 * What a function may do, written next to the environment variable that tells it where: each call sets
 * one variable and grants exactly the access the function needs to the resource it names, so the
 * wiring in the stack reads as a list of "this function may <verb> <resource> (found in <VAR>)".
 *
 * Keys: "encrypt" is `kms:GenerateDataKey` only (the intake seals tokens with a fresh data key and can
 * never open one); "decrypt" is `kms:Decrypt` only (the worker opens sealed tokens).
 */
export class FunctionAccess {
  /** The variables set so far, for tests and for readers. */
  readonly variables: Record<string, string> = {};

  constructor(readonly fn: IFunction & { addEnvironment(key: string, value: string): unknown }) {}

  /** A plain setting, no resource behind it. */
  setting(name: string, value: string): this {
    return this.set(name, value);
  }

  table(name: string, table: ITable, access: "read" | "readWrite"): this {
    if (access === "read") table.grantReadData(this.fn);
    else table.grantReadWriteData(this.fn);
    const stack = Stack.of(this.fn);
    const tableId = stack.resolve(stack.getLogicalId(table.node.defaultChild as CfnResource)) as string;
    acknowledge(
      this.fn,
      "The table's grant covers its own GSIs (<table>/index/*), which the store queries, and nothing else.",
      `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
    );
    if (table.encryptionKey) this.acknowledgeKeyActionGroups();
    return this.set(name, table.tableName);
  }

  queue(name: string, queue: IQueue, access: "send"): this {
    if (access === "send") queue.grantSendMessages(this.fn);
    if (queue.encryptionMasterKey) this.acknowledgeKeyActionGroups();
    return this.set(name, queue.queueUrl);
  }

  /** `encrypt`: seal with data keys; `decrypt`: open; `both`: the worker, which opens and also seals. */
  key(name: string, key: IKey, access: "encrypt" | "decrypt" | "both"): this {
    if (access !== "decrypt") key.grant(this.fn, "kms:GenerateDataKey");
    if (access !== "encrypt") key.grant(this.fn, "kms:Decrypt");
    return this.set(name, key.keyArn);
  }

  parameter(name: string, parameter: IStringParameter, access: "read"): this {
    if (access === "read") parameter.grantRead(this.fn);
    return this.set(name, parameter.parameterName);
  }

  /** Read one secret (its whole JSON value). */
  secret(name: string, secret: ISecret, access: "read"): this {
    if (access === "read") secret.grantRead(this.fn);
    return this.set(name, secret.secretArn);
  }

  /**
   * Create and update secrets under a name prefix (replacement keys), encrypted with `key`. Secrets
   * Manager needs the caller's GenerateDataKey/Decrypt on the key, allowed only through Secrets Manager.
   */
  secretsUnder(name: string, prefix: string, key: IKey): this {
    const stack = Stack.of(this.fn);
    const arn = Arn.format(
      {
        service: "secretsmanager",
        resource: "secret",
        resourceName: `${prefix}/*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      },
      stack,
    );
    this.addStatement(
      new PolicyStatement({
        actions: [
          "secretsmanager:CreateSecret",
          "secretsmanager:PutSecretValue",
          "secretsmanager:TagResource",
        ],
        resources: [arn],
      }),
    );
    this.addStatement(
      new PolicyStatement({
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: [key.keyArn],
        conditions: { StringEquals: { "kms:ViaService": `secretsmanager.${stack.region}.amazonaws.com` } },
      }),
    );
    acknowledge(
      this.fn,
      "Replacement keys are one secret each, named <prefix>/<leak id>/<key id>: the function may create " +
        "and update secrets under this stage's prefix only.",
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}/*]`,
    );
    return this.set(name, prefix);
  }

  /** Send email (SES v2 SendEmail) from one verified identity only; the variable names the identity. */
  sesIdentity(name: string, identity: string): this {
    const stack = Stack.of(this.fn);
    this.addStatement(
      new PolicyStatement({
        actions: ["ses:SendEmail", "ses:SendRawEmail"],
        resources: [stack.formatArn({ service: "ses", resource: "identity", resourceName: identity })],
      }),
    );
    return this.set(name, identity);
  }

  /** CDK's data grants on an encrypted table or queue use KMS action groups on that one key. */
  private acknowledgeKeyActionGroups(): void {
    acknowledge(
      this.fn,
      "CDK's grant on an encrypted table or queue: kms:GenerateDataKey* and kms:ReEncrypt* on that " +
        "resource's key only (the data key, never the token key).",
      "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
      "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
    );
  }

  private addStatement(statement: PolicyStatement): void {
    this.fn.addToRolePolicy(statement);
  }

  private set(name: string, value: string): this {
    if (name in this.variables)
      throw new Error(`${this.fn.node.path}: environment variable ${name} set twice`);
    this.variables[name] = value;
    this.fn.addEnvironment(name, value);
    return this;
  }
}
