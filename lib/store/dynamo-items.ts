import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";

// Plain objects to DynamoDB attribute maps and back, by the SDK's marshaller. Absent fields are left
// out rather than refused; anything the domain does not store (a Date, a Map, an unsafe integer) is
// refused by the marshaller, so no value is silently stored in a shape that reads back differently.

export type AttributeMap = Record<string, AttributeValue>;

export const toAttributes = (item: Record<string, unknown>): AttributeMap =>
  marshall(item, { removeUndefinedValues: true });

export const fromItem = (item: AttributeMap): Record<string, unknown> => unmarshall(item);
