// The single table's keys and indexes, shared by the DynamoDB adapter, the local engine and the CDK stack.
//
// Access patterns → keys
//   leak by id (and by fingerprint: the id derives from it) → pk=LEAK#<id>, sk=LEAK
//   sightings of a leak                                     → pk=LEAK#<id>, sk begins_with SIGHTING#
//   leaks by status and time                                → gsi1pk=STATUS#<status>, gsi1sk=<first seen>#<id>
//   leaks by token type and time                            → gsi2pk=TYPE#<type>,     gsi2sk=<first seen>#<id>
//   all leaks by time                                       → gsi3pk=LEAKS,           gsi3sk=<first seen>#<id>
//   leaks by owner and time                                 → gsi4pk=OWNER#<email|id>, gsi4sk=<first seen>#<id>
//     … and by the owner's id when gsi4 holds their email   → gsi5pk=OWNER#<id>,       gsi5sk=<first seen>#<id>
//   leaks the worker still owes a step, by last activity  → gsi6pk=OWES_WORK (sparse), gsi6sk=<last activity>#<id>
//   leaks by preview (what a notification shows) and time  → gsi7pk=PREVIEW#<preview>, gsi7sk=<first seen>#<id>
//   all leaks by time, as the overview's few fields         → gsi8pk=LEAKS, gsi8sk=<first seen>#<id> (INCLUDE)
//   GitHub's partner key set, as the sweep last fetched it  → pk=GITHUB#PARTNER_KEYS, sk=CURRENT
// The timeline lives inside the leak item so that a state change and its event are one conditional write.

export const TABLE_KEYS = { partitionKey: "pk", sortKey: "sk" } as const;

export const TABLE_INDEXES = [
  { indexName: "gsi1", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
  { indexName: "gsi2", partitionKey: "gsi2pk", sortKey: "gsi2sk" },
  { indexName: "gsi3", partitionKey: "gsi3pk", sortKey: "gsi3sk" },
  { indexName: "gsi4", partitionKey: "gsi4pk", sortKey: "gsi4sk" },
  { indexName: "gsi5", partitionKey: "gsi5pk", sortKey: "gsi5sk" },
  { indexName: "gsi6", partitionKey: "gsi6pk", sortKey: "gsi6sk" },
  { indexName: "gsi7", partitionKey: "gsi7pk", sortKey: "gsi7sk" },
  // The time index again, holding only what the overview counts: a month of leaks is read as small
  // items (DynamoDB pages by the bytes it reads, not the bytes it returns, so a projection on gsi3's
  // whole items still reads them whole).
  {
    indexName: "gsi8",
    partitionKey: "gsi8pk",
    sortKey: "gsi8sk",
    include: ["id", "firstSeen", "status", "tokenType", "timeToRevokeMs", "notification"],
  },
] as const satisfies readonly TableIndex[];

export interface TableIndex {
  indexName: string;
  partitionKey: string;
  sortKey: string;
  /** The attributes the index holds besides the keys; all of them when absent. */
  include?: readonly string[];
}

/** An index's projection as DynamoDB and CloudFormation take it. */
export function projectionOf(index: TableIndex): {
  ProjectionType: "ALL" | "INCLUDE";
  NonKeyAttributes?: string[];
} {
  return index.include
    ? { ProjectionType: "INCLUDE", NonKeyAttributes: [...index.include] }
    : { ProjectionType: "ALL" };
}

export type IndexName = (typeof TABLE_INDEXES)[number]["indexName"];

/** Attribute holding an epoch-seconds expiry for ephemeral items (DynamoDB TTL). */
export const TTL_ATTRIBUTE = "expiresAt";
