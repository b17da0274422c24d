// Which fields of a JSON Schema an example document does not show: every property of every object
// (in at least one of a record's entries or an array's items), and each variant of a `kind` union.

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  const?: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Fields as shapes: `$.issuers.*[http].timeout_ms` (`*` any record key, `[kind]` a union's variant). */
export function fieldsNotShown(schema: unknown, example: unknown): string[] {
  const wanted = new Set<string>();
  const shown = new Set<string>();

  const visit = (node: JsonSchema, value: unknown, shape: string) => {
    const variants = node.oneOf ?? node.anyOf;
    const kinds = variants?.map((v) => v.properties?.kind?.const).filter((k) => typeof k === "string") ?? [];
    if (variants && kinds.length > 0) {
      for (const kind of kinds) wanted.add(`${shape}[${kind}]`);
      const variant = variants.find((v) => isObject(value) && v.properties?.kind?.const === value.kind);
      if (!variant || !isObject(value)) return;
      shown.add(`${shape}[${value.kind}]`);
      return visit(variant, value, `${shape}[${value.kind}]`);
    }
    if (node.properties) {
      for (const [name, child] of Object.entries(node.properties)) {
        wanted.add(`${shape}.${name}`);
        if (isObject(value) && name in value) {
          shown.add(`${shape}.${name}`);
          visit(child, value[name], `${shape}.${name}`);
        }
      }
      return;
    }
    if (isObject(node.additionalProperties)) {
      wanted.add(`${shape}.*`);
      if (!isObject(value)) return;
      for (const child of Object.values(value)) {
        shown.add(`${shape}.*`);
        visit(node.additionalProperties, child, `${shape}.*`);
      }
      return;
    }
    if (node.items && Array.isArray(value)) {
      for (const item of value) visit(node.items, item, `${shape}[]`);
    }
  };
  visit(schema as JsonSchema, example, "$");
  return [...wanted].filter((field) => !shown.has(field)).sort();
}
