import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { awsCall } from "../aws/aws-call.js";
import { ConflictError } from "../errors.js";
import { type AlertReceipt, type AlertRecord, alertIdFor } from "../github/alert-record.js";
import type { AlertChanges, AlertStore } from "../github/alert-store.js";
import { isConditionFailure, putWhen } from "./dynamo-conditional-put.js";
import { fromItem, toAttributes } from "./dynamo-items.js";
import { idAt, queryOwesWork } from "./dynamo-owes-work.js";
import { TABLE_INDEXES, TABLE_KEYS } from "./table-schema.js";

// GitHub App alerts in the leak table (table-schema.ts): one item per alert, `ALERT#<id>` / `ALERT`.
// An alert whose fetch is owed sits in the sparse gsi6 under its own partition (`ALERTS_OWED`), beside
// the leaks owing work, so the sweep finds it without reading settled history. The sweep's mark per
// installation is an item of its own (`at`, and `clearedAt` when an installation webhook cleared it).

const ALERT_SK = "ALERT";
const alertPk = (id: string) => `ALERT#${id}`;
const ALERTS_OWED_KEY = "ALERTS_OWED";
const OWED_LISTING = "alerts-owed";
const OWED_POSITION = /^[^#]{1,64}#al_[0-9a-f]{24}$/;
/** Delivery ids kept per alert: GitHub sends one per action, and a redelivery repeats a recent one. */
const DELIVERIES_KEPT = 20;
/** Conditional writes lost to a concurrent one before recordAlert gives up. */
const MAX_RACES = 5;

const KEY_ATTRIBUTES = [
  TABLE_KEYS.partitionKey,
  TABLE_KEYS.sortKey,
  ...TABLE_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey]),
  "entity",
];

function toItem(alert: AlertRecord): Record<string, unknown> {
  return {
    pk: alertPk(alert.id),
    sk: ALERT_SK,
    entity: "github_alert",
    ...(alert.fetchOwed ? { gsi6pk: ALERTS_OWED_KEY, gsi6sk: `${alert.lastActivity}#${alert.id}` } : {}),
    ...alert,
  };
}

function toAlert(item: Record<string, unknown>): AlertRecord {
  const alert = { ...item };
  for (const key of KEY_ATTRIBUTES) delete alert[key];
  return alert as unknown as AlertRecord;
}

export class DynamoAlertStore implements AlertStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async recordAlert(
    receipt: AlertReceipt,
    options: { delivery?: string | undefined; at: number },
  ): Promise<{ alert: AlertRecord; duplicate: boolean }> {
    const id = alertIdFor(receipt);
    const at = new Date(options.at).toISOString();
    for (let race = 0; race < MAX_RACES; race++) {
      const current = await this.getAlert(id);
      if (!current) {
        const alert: AlertRecord = {
          ...receipt,
          id,
          receivedAtMs: options.at,
          lastActivity: at,
          deliveries: options.delivery ? [options.delivery] : [],
          fetchOwed: true,
          attempts: 0,
          version: 1,
        };
        if (await this.put(alert, "attribute_not_exists(pk)")) return { alert, duplicate: false };
        continue; // created meanwhile: look again
      }
      if (!options.delivery || current.deliveries.includes(options.delivery)) {
        return { alert: current, duplicate: true };
      }
      // A new delivery of a known alert (reopened, validated…): a new sighting to fetch.
      const next = await this.updateAlert(current, {
        deliveries: [...current.deliveries, options.delivery].slice(-DELIVERIES_KEPT),
        fetchOwed: true,
        attempts: 0,
        // GitHub sees the alert again: no longer stopped by its installation or repository.
        stoppedBy: undefined,
        lastActivity: at,
        ...(receipt.htmlUrl ? { htmlUrl: receipt.htmlUrl } : {}),
      }).catch((error: unknown) => {
        if (error instanceof ConflictError) return undefined;
        throw error;
      });
      if (next) return { alert: next, duplicate: false };
    }
    throw new ConflictError(`alert ${id} kept changing while its delivery was recorded`);
  }

  async getAlert(id: string): Promise<AlertRecord | undefined> {
    const get = new GetItemCommand({
      TableName: this.tableName,
      Key: toAttributes({ pk: alertPk(id), sk: ALERT_SK }),
      ConsistentRead: true,
    });
    const { Item } = await awsCall("dynamodb:GetItem", () => this.client.send(get));
    return Item ? toAlert(fromItem(Item)) : undefined;
  }

  async updateAlert(alert: AlertRecord, changes: AlertChanges): Promise<AlertRecord> {
    const next: AlertRecord = { ...alert, ...changes, version: alert.version + 1 };
    for (const key of Object.keys(next) as (keyof AlertRecord)[]) {
      if (next[key] === undefined) delete next[key];
    }
    if (!(await this.put(next, "version = :expected", alert.version))) {
      throw new ConflictError(`alert ${alert.id} changed since version ${alert.version}`);
    }
    return next;
  }

  async listOwedAlerts(query: {
    until: string;
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ items: AlertRecord[]; nextCursor: string | null }> {
    const page = await queryOwesWork(this.client, this.tableName, {
      ...query,
      partition: ALERTS_OWED_KEY,
      listing: OWED_LISTING,
      position: OWED_POSITION,
      tableKey: (position) => ({ pk: alertPk(idAt(position)), sk: ALERT_SK }),
    });
    return { items: page.items.map(toAlert), nextCursor: page.nextCursor };
  }

  async getSweepMark(installationId: number): Promise<string | undefined> {
    const get = new GetItemCommand({
      TableName: this.tableName,
      Key: toAttributes(sweepMarkKey(installationId)),
      ConsistentRead: true,
    });
    const { Item } = await awsCall("dynamodb:GetItem", () => this.client.send(get));
    const at = Item ? fromItem(Item).at : undefined;
    return typeof at === "string" ? at : undefined; // a cleared mark keeps only when it was cleared
  }

  async setSweepMark(installationId: number, at: string): Promise<void> {
    // Two sweeps racing: the later mark wins, never an earlier one; and a listing that started before
    // the mark was cleared may have missed what the clear announced (new repositories): it sets none.
    const update = new UpdateItemCommand({
      TableName: this.tableName,
      Key: toAttributes(sweepMarkKey(installationId)),
      UpdateExpression: "SET #at = :at, entity = :entity",
      ConditionExpression:
        "(attribute_not_exists(#at) OR #at < :at) AND (attribute_not_exists(#cleared) OR #cleared < :at)",
      ExpressionAttributeNames: { "#at": "at", "#cleared": "clearedAt" },
      ExpressionAttributeValues: toAttributes({ ":at": at, ":entity": "github_sweep_mark" }),
    });
    await awsCall("dynamodb:UpdateItem", () => this.client.send(update)).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
  }

  async clearSweepMark(installationId: number, at: string): Promise<void> {
    const update = new UpdateItemCommand({
      TableName: this.tableName,
      Key: toAttributes(sweepMarkKey(installationId)),
      UpdateExpression: "SET #cleared = :at, entity = :entity REMOVE #at",
      // A later clear already stands: it removed the mark, and keeps the later bar.
      ConditionExpression: "attribute_not_exists(#cleared) OR #cleared < :at",
      ExpressionAttributeNames: { "#at": "at", "#cleared": "clearedAt" },
      ExpressionAttributeValues: toAttributes({ ":at": at, ":entity": "github_sweep_mark" }),
    });
    await awsCall("dynamodb:UpdateItem", () => this.client.send(update)).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
  }

  /** The whole item, written when `condition` holds; false when it did not. */
  private put(alert: AlertRecord, condition: string, expected?: number): Promise<boolean> {
    const values = expected === undefined ? undefined : { ":expected": expected };
    return putWhen(this.client, this.tableName, toItem(alert), condition, values);
  }
}

const sweepMarkKey = (installationId: number) => ({
  pk: `GITHUB#INSTALLATION#${installationId}`,
  sk: "SWEEP_MARK",
});
