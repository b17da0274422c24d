import {
  CreateSecretCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { awsCall } from "../aws/aws-call.js";
import { isAwsError } from "../errors.js";
import type { SecretStore, StoredSecret } from "./secret-store.js";

/**
 * The deployed secret store: AWS Secrets Manager, one secret per replacement key, tagged with the leak
 * and encrypted with the stack's key. The owner is told the secret's name, never its value.
 *
 * The SDK gives each write a ClientRequestToken and keeps it across its retries, so a retry after a
 * lost answer is a no-op in Secrets Manager instead of a second version.
 */
export class SecretsManagerSecretStore implements SecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly options: { prefix: string; kmsKeyId?: string | undefined },
  ) {}

  async put(input: { leakId: string; keyId: string; secret: string }): Promise<StoredSecret> {
    const name = `${this.options.prefix.replace(/\/$/, "")}/${input.leakId}/${input.keyId}`;
    const create = new CreateSecretCommand({
      Name: name,
      SecretString: input.secret,
      KmsKeyId: this.options.kmsKeyId,
      Description: `Replacement key ${input.keyId} for leak ${input.leakId}`,
      Tags: [
        { Key: "tourniquet:leak", Value: input.leakId },
        { Key: "tourniquet:key", Value: input.keyId },
      ],
    });
    try {
      await awsCall("secretsmanager:CreateSecret", () => this.client.send(create));
    } catch (error) {
      if (!isAwsError(error, "ResourceExistsException")) throw error;
      const put = new PutSecretValueCommand({ SecretId: name, SecretString: input.secret });
      await awsCall("secretsmanager:PutSecretValue", () => this.client.send(put));
    }
    return { where: `AWS Secrets Manager secret "${name}" (ask your security team for read access)` };
  }
}
