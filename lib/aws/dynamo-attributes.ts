// DynamoDB's typed attribute values (`{"S": "x"}`, `{"N": "1"}`, ...) to and from plain JSON values,
// for the shapes the leak store writes: strings, numbers, booleans, null, lists and maps. `undefined`
// fields are dropped, as the document client's removeUndefinedValues does.

export type AttributeValue =
  | { S: string }
  | { N: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { L: AttributeValue[] }
  | { M: Record<string, AttributeValue> }
  | { SS: string[] }
  | { NS: string[] }
  | { B: string }
  | { BS: string[] };

export type AttributeMap = Record<string, AttributeValue>;

/** Only plain objects become maps: a Date, Map, Set, Buffer or class instance would lose its data. */
const isPlainObject = (value: object) => {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

export function toAttribute(value: unknown): AttributeValue {
  if (typeof value === "string") return { S: value };
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`cannot store the number ${value}`);
    // As the SDK's marshall: beyond 2^53 the number is not the one the caller meant.
    if (Math.abs(value) > Number.MAX_SAFE_INTEGER) throw new RangeError(`cannot store ${value} exactly`);
    return { N: String(value) };
  }
  if (typeof value === "boolean") return { BOOL: value };
  if (value === null) return { NULL: true };
  if (Array.isArray(value)) return { L: value.filter((v) => v !== undefined).map(toAttribute) };
  if (typeof value === "object" && isPlainObject(value)) {
    return { M: toAttributes(value as Record<string, unknown>) };
  }
  const type = typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
  throw new TypeError(`cannot store a value of type ${type}`);
}

export function toAttributes(record: Record<string, unknown>): AttributeMap {
  const out: AttributeMap = {};
  for (const [name, value] of Object.entries(record)) {
    if (value !== undefined) out[name] = toAttribute(value);
  }
  return out;
}

export function fromAttribute(value: AttributeValue): unknown {
  if ("S" in value) return value.S;
  if ("N" in value) return Number(value.N);
  if ("BOOL" in value) return value.BOOL;
  if ("NULL" in value) return null;
  if ("L" in value) return value.L.map(fromAttribute);
  if ("M" in value) return fromAttributes(value.M);
  if ("SS" in value) return [...value.SS];
  if ("NS" in value) return value.NS.map(Number);
  if ("B" in value) return value.B;
  if ("BS" in value) return [...value.BS];
  throw new TypeError(`unknown attribute type ${Object.keys(value).join(",")}`);
}

export function fromAttributes(map: AttributeMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(map)) out[name] = fromAttribute(value);
  return out;
}
