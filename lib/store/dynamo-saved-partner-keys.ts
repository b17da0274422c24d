import type { AwsJsonClient } from "../aws/aws-json-client.js";
import { type AttributeMap, fromAttributes, toAttributes } from "../aws/dynamo-attributes.js";
import { isAwsError } from "../errors.js";
import type { PartnerKeySetDocument } from "../github/partner-key-set.js";
import type { SavedPartnerKeySet, SavedPartnerKeysStore } from "../github/saved-partner-keys.js";

// The saved GitHub partner key set, one item in the leak table (table-schema.ts).

const KEY = { pk: "GITHUB#PARTNER_KEYS", sk: "CURRENT" };

export class DynamoSavedPartnerKeys implements SavedPartnerKeysStore {
  constructor(
    private readonly client: AwsJsonClient,
    private readonly tableName: string,
  ) {}

  async save(saved: SavedPartnerKeySet): Promise<void> {
    await this.client
      .call("PutItem", {
        TableName: this.tableName,
        Item: toAttributes({
          ...KEY,
          entity: "partner_key_set",
          document: JSON.stringify(saved.document),
          fetchedAt: saved.fetchedAt,
        }),
        // Two sweeps racing: the later fetch wins.
        ConditionExpression: "attribute_not_exists(fetchedAt) OR fetchedAt <= :at",
        ExpressionAttributeValues: toAttributes({ ":at": saved.fetchedAt }),
      })
      .catch((error: unknown) => {
        if (!isAwsError(error, "ConditionalCheckFailedException")) throw error;
      });
  }

  async load(): Promise<SavedPartnerKeySet | undefined> {
    const { Item } = await this.client.call<{ Item?: AttributeMap }>("GetItem", {
      TableName: this.tableName,
      Key: toAttributes(KEY),
    });
    if (!Item) return undefined;
    const item = fromAttributes(Item);
    return {
      document: JSON.parse(String(item.document)) as PartnerKeySetDocument,
      fetchedAt: String(item.fetchedAt),
    };
  }
}
