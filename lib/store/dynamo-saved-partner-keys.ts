import { type DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { awsCall } from "../aws/aws-call.js";
import type { PartnerKeySetDocument } from "../github/partner-key-set.js";
import type { SavedPartnerKeySet, SavedPartnerKeysStore } from "../github/saved-partner-keys.js";
import { isConditionFailure } from "./dynamo-conditional-put.js";
import { fromItem, toAttributes } from "./dynamo-items.js";

// The saved GitHub partner key set, one item in the leak table (table-schema.ts).

const KEY = { pk: "GITHUB#PARTNER_KEYS", sk: "CURRENT" };

export class DynamoSavedPartnerKeys implements SavedPartnerKeysStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async save(saved: SavedPartnerKeySet): Promise<void> {
    const put = new PutItemCommand({
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
    });
    await awsCall("dynamodb:PutItem", () => this.client.send(put)).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
  }

  async load(): Promise<SavedPartnerKeySet | undefined> {
    const get = new GetItemCommand({ TableName: this.tableName, Key: toAttributes(KEY) });
    const { Item } = await awsCall("dynamodb:GetItem", () => this.client.send(get));
    if (!Item) return undefined;
    const item = fromItem(Item);
    return {
      document: JSON.parse(String(item.document)) as PartnerKeySetDocument,
      fetchedAt: String(item.fetchedAt),
    };
  }
}
