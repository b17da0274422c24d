// The query protocol's answers as STS and IAM write them: `<{Action}Response xmlns=…>` holding
// `<{Action}Result>` (absent for actions without output) and `<ResponseMetadata><RequestId>`; lists as
// `<member>` elements; errors as `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
// Element names follow the SDK's models (@aws-sdk/client-iam and client-sts schemas).

export const XMLNS = {
  sts: "https://sts.amazonaws.com/doc/2011-06-15/",
  iam: "https://iam.amazonaws.com/doc/2010-05-08/",
} as const;

export type AwsService = keyof typeof XMLNS;

/** An element tree: a value is text, a nested object, or an array written as `<member>`s. */
export type XmlValue = string | number | boolean | undefined | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function render(value: XmlValue): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return value.map((item) => `<member>${render(item)}</member>`).join("");
  if (typeof value === "object") {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([name, v]) => `<${name}>${render(v)}</${name}>`)
      .join("");
  }
  return escapeXml(String(value));
}

export function successXml(
  service: AwsService,
  action: string,
  result: XmlObject | undefined,
  requestId: string,
): string {
  const body = result ? `<${action}Result>${render(result)}</${action}Result>` : "";
  return `<${action}Response xmlns="${XMLNS[service]}">${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

export function errorXml(
  service: AwsService,
  error: { status: number; code: string; message: string },
  requestId: string,
): string {
  const type = error.status >= 500 ? "Receiver" : "Sender";
  return `<ErrorResponse xmlns="${XMLNS[service]}"><Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

/** `2015-06-16T22:45:00Z`, as AWS writes its timestamps. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
