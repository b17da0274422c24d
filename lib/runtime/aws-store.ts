import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { awsClientDefaults } from "../aws/client-config.js";
import { DynamoAlertStore } from "../store/dynamo-alert-store.js";
import { DynamoLeakStore } from "../store/dynamo-leak-store.js";
import { DynamoReportPartStore } from "../store/dynamo-report-part-store.js";
import { DynamoSavedPartnerKeys } from "../store/dynamo-saved-partner-keys.js";
import { type Env, required } from "./aws-env.js";

/** The leak table TABLE_NAME and one DynamoDB client for everything kept in it. */
export interface AwsTable {
  client: DynamoDBClient;
  tableName: string;
}

export function awsTable(env: Env = process.env): AwsTable {
  return { client: new DynamoDBClient(awsClientDefaults()), tableName: required(env, "TABLE_NAME") };
}

export function awsStore(env: Env = process.env, table: AwsTable = awsTable(env)) {
  return new DynamoLeakStore(table.client, table.tableName);
}

export function awsAlertStore(env: Env = process.env, table: AwsTable = awsTable(env)) {
  return new DynamoAlertStore(table.client, table.tableName);
}

export function awsReportPartStore(env: Env = process.env, table: AwsTable = awsTable(env)) {
  return new DynamoReportPartStore(table.client, table.tableName);
}

export function awsSavedPartnerKeys(env: Env = process.env, table: AwsTable = awsTable(env)) {
  return new DynamoSavedPartnerKeys(table.client, table.tableName);
}
