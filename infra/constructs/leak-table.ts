import { RemovalPolicy } from "aws-cdk-lib";
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { TABLE_INDEXES, TABLE_KEYS, type TableIndex, TTL_ATTRIBUTE } from "../../lib/store/table-schema.js";

export interface LeakTableProps {
  /** Customer-managed key that encrypts the table at rest. */
  readonly encryptionKey: IKey;
}

/**
 * The leak store: one DynamoDB table whose keys, GSIs and TTL attribute come from
 * `lib/store/table-schema.ts`, the same definition the store adapter and the local engine use.
 *
 * `Table`, not `TableV2`: TableV2 renders a global table whose customer-managed key is set per
 * replica region, which cannot be synthesized in an environment-agnostic stack.
 */
export class LeakTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: LeakTableProps) {
    super(scope, id);

    this.table = new Table(this, "Table", {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The revocation history is the product's proof of what was done: never lose it to a stack update.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    for (const index of TABLE_INDEXES as readonly TableIndex[]) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        ...(index.include
          ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.include] }
          : {}),
      });
    }
  }
}
