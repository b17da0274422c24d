import { randomUUID } from "node:crypto";
import type { AwsJsonClient } from "../aws/aws-json-client.js";
import { isAwsError } from "../errors.js";
import type { SecretStore, StoredSecret } from "./secret-store.js";

/**
 * The deployed secret store: AWS Secrets Manager, one secret per replacement key, tagged with the leak
 * and encrypted with the stack's key. The owner is told the secret's name, never its value.
 *
 * Each write carries a fresh ClientRequestToken (the SDK would add one; a raw call must). The client
 * retries a call with the same body, hence the same token, so a retry after a lost answer is a no-op
 * in Secrets Manager instead of a second version.
 */
export class SecretsManagerSecretStore implements SecretStore {
  constructor(
    private readonly client: AwsJsonClient,
    private readonly options: { prefix: string; kmsKeyId?: string | undefined },
  ) {}

  async put(input: { leakId: string; keyId: string; secret: string }): Promise<StoredSecret> {
    const name = `${this.options.prefix.replace(/\/$/, "")}/${input.leakId}/${input.keyId}`;
    try {
      await this.client.call("CreateSecret", {
        Name: name,
        SecretString: input.secret,
        KmsKeyId: this.options.kmsKeyId,
        Description: `Replacement key ${input.keyId} for leak ${input.leakId}`,
        Tags: [
          { Key: "tourniquet:leak", Value: input.leakId },
          { Key: "tourniquet:key", Value: input.keyId },
        ],
        ClientRequestToken: randomUUID(),
      });
    } catch (error) {
      if (!isAwsError(error, "ResourceExistsException")) throw error;
      await this.client.call("PutSecretValue", {
        SecretId: name,
        SecretString: input.secret,
        ClientRequestToken: randomUUID(),
      });
    }
    return { where: `AWS Secrets Manager secret "${name}" (ask your security team for read access)` };
  }
}
