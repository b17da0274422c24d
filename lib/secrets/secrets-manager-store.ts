import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import type { SecretStore, StoredSecret } from "./secret-store.js";

/**
 * The deployed secret store: AWS Secrets Manager, one secret per replacement key, tagged with the leak
 * and encrypted with the stack's key. The owner is told the secret's name, never its value.
 */
export class SecretsManagerSecretStore implements SecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly options: { prefix: string; kmsKeyId?: string | undefined },
  ) {}

  async put(input: { leakId: string; keyId: string; secret: string }): Promise<StoredSecret> {
    const name = `${this.options.prefix.replace(/\/$/, "")}/${input.leakId}/${input.keyId}`;
    try {
      await this.client.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: input.secret,
          KmsKeyId: this.options.kmsKeyId,
          Description: `Replacement key ${input.keyId} for leak ${input.leakId}`,
          Tags: [
            { Key: "tourniquet:leak", Value: input.leakId },
            { Key: "tourniquet:key", Value: input.keyId },
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceExistsException || (error as Error).name === "ResourceExistsException"))
        throw error;
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: input.secret }));
    }
    return { where: `AWS Secrets Manager secret "${name}" (ask your security team for read access)` };
  }
}
