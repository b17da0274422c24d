import { PayloadTooLargeError, UnsupportedMediaTypeError } from "../errors.js";

// The first checks of a signed JSON delivery (partner reports, App webhooks), before its signature:
// how big it is, and that it says it is JSON (a charset is fine).

const JSON_CONTENT_TYPE = /^application\/json\s*(;.*)?$/i;

export interface JsonRequestRules {
  maxBytes: number;
  /** A missing Content-Type is refused too (GitHub's partner reports may omit it; webhooks never do). */
  contentTypeRequired: boolean;
  /** Appended to the 415 message: how the sender can fix it. */
  hint?: string;
}

export function checkJsonRequest(
  body: Buffer,
  contentType: string | undefined,
  rules: JsonRequestRules,
): void {
  if (body.length > rules.maxBytes) {
    throw new PayloadTooLargeError(`body is ${body.length} bytes; the limit is ${rules.maxBytes}`);
  }
  if (contentType === undefined ? rules.contentTypeRequired : !JSON_CONTENT_TYPE.test(contentType.trim())) {
    const given = contentType ? `, not ${contentType.slice(0, 80)}` : "";
    throw new UnsupportedMediaTypeError(`content-type must be application/json${given}${rules.hint ?? ""}`);
  }
}
