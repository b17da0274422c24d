// The query protocol's answers as STS and IAM write them: `<{Action}Response xmlns=…>` holding
// `<{Action}Result>` (absent for actions without output) and `<ResponseMetadata><RequestId>`; lists as
// `<member>` elements; errors as `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
// Element names follow the SDK's models (@aws-sdk/client-iam and client-sts schemas); the XML is
// written with the SDK's own builder (@aws-sdk/xml-builder), escaping included.

import { XmlNode, XmlText } from "@aws-sdk/xml-builder";

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

/** The children of an element: text, nested elements, or a list written as `<member>`s. */
function children(value: XmlValue): (XmlNode | XmlText)[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.map((item) => new XmlNode("member", children(item)));
  if (typeof value === "object") {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([name, v]) => new XmlNode(name, children(v)));
  }
  return [new XmlText(String(value))];
}

const element = (name: string, value: XmlValue) => new XmlNode(name, children(value));

export function successXml(
  service: AwsService,
  action: string,
  result: XmlObject | undefined,
  requestId: string,
): string {
  const response = new XmlNode(`${action}Response`).addAttribute("xmlns", XMLNS[service]);
  if (result) response.addChildNode(element(`${action}Result`, result));
  response.addChildNode(element("ResponseMetadata", { RequestId: requestId }));
  return response.toString();
}

export function errorXml(
  service: AwsService,
  error: { status: number; code: string; message: string },
  requestId: string,
): string {
  const type = error.status >= 500 ? "Receiver" : "Sender";
  return new XmlNode("ErrorResponse")
    .addAttribute("xmlns", XMLNS[service])
    .addChildNode(element("Error", { Type: type, Code: error.code, Message: error.message }))
    .addChildNode(element("RequestId", requestId))
    .toString();
}

/** `2015-06-16T22:45:00Z`, as AWS writes its timestamps. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
