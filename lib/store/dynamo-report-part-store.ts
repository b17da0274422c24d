import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { awsCall } from "../aws/aws-call.js";
import { ConflictError } from "../errors.js";
import type { ReportPart, ReportPartChanges } from "../intake/report-part.js";
import type { ReportPartStore } from "../intake/report-part-store.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import { isConditionFailure, putWhen } from "./dynamo-conditional-put.js";
import { fromItem, toAttributes } from "./dynamo-items.js";
import { idAt, queryOwesWork } from "./dynamo-owes-work.js";

// Mass reports' parts in the leak table (table-schema.ts): one item per part, `PART#<id>` / `PART`,
// in the sparse gsi6 under `PARTS_OWED` while the worker owes its recording, so the sweep finds a part
// whose message was lost. A part that can never be recorded leaves the index and stays for inspection.

const PART_SK = "PART";
const partPk = (id: string) => `PART#${id}`;
const PARTS_OWED_KEY = "PARTS_OWED";
const OWED_LISTING = "parts-owed";
const OWED_POSITION = /^[^#]{1,64}#rp_[0-9a-f]{24}_\d{1,6}$/;
/** Parts written at once: a report's parts go out in parallel, not one by one. */
const PUT_CONCURRENCY = 8;

const KEY_ATTRIBUTES = ["pk", "sk", "gsi6pk", "gsi6sk", "entity"];

function toItem(part: ReportPart): Record<string, unknown> {
  return {
    pk: partPk(part.id),
    sk: PART_SK,
    entity: "report_part",
    ...(part.failure ? {} : { gsi6pk: PARTS_OWED_KEY, gsi6sk: `${part.lastActivity}#${part.id}` }),
    ...part,
  };
}

function toPart(item: Record<string, unknown>): ReportPart {
  const part = { ...item };
  for (const key of KEY_ATTRIBUTES) delete part[key];
  return part as unknown as ReportPart;
}

export class DynamoReportPartStore implements ReportPartStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async putParts(parts: readonly ReportPart[]): Promise<void> {
    await mapWithConcurrency(parts, PUT_CONCURRENCY, async (part) => {
      const put = new PutItemCommand({ TableName: this.tableName, Item: toAttributes(toItem(part)) });
      await awsCall("dynamodb:PutItem", () => this.client.send(put));
    });
  }

  async getPart(id: string): Promise<ReportPart | undefined> {
    const get = new GetItemCommand({
      TableName: this.tableName,
      Key: toAttributes({ pk: partPk(id), sk: PART_SK }),
      ConsistentRead: true,
    });
    const { Item } = await awsCall("dynamodb:GetItem", () => this.client.send(get));
    return Item ? toPart(fromItem(Item)) : undefined;
  }

  async updatePart(part: ReportPart, changes: ReportPartChanges): Promise<ReportPart> {
    const next: ReportPart = { ...part, ...changes, version: part.version + 1 };
    for (const key of Object.keys(next) as (keyof ReportPart)[]) {
      if (next[key] === undefined) delete next[key];
    }
    if (
      !(await putWhen(this.client, this.tableName, toItem(next), "version = :expected", {
        ":expected": part.version,
      }))
    ) {
      throw new ConflictError(`report part ${part.id} changed since version ${part.version}`);
    }
    return next;
  }

  async deletePart(part: ReportPart): Promise<void> {
    const remove = new DeleteItemCommand({
      TableName: this.tableName,
      Key: toAttributes({ pk: partPk(part.id), sk: PART_SK }),
      // The same report sent again meanwhile wrote the part anew: that copy is owed a recording of its own.
      ConditionExpression: "version = :expected",
      ExpressionAttributeValues: toAttributes({ ":expected": part.version }),
    });
    await awsCall("dynamodb:DeleteItem", () => this.client.send(remove)).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
  }

  async listOwedParts(query: {
    until: string;
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ items: ReportPart[]; nextCursor: string | null }> {
    const page = await queryOwesWork(this.client, this.tableName, {
      ...query,
      partition: PARTS_OWED_KEY,
      listing: OWED_LISTING,
      position: OWED_POSITION,
      tableKey: (position) => ({ pk: partPk(idAt(position)), sk: PART_SK }),
    });
    return { items: page.items.map(toPart), nextCursor: page.nextCursor };
  }
}
