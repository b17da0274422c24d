// Some credentials leak as two halves reported as two token types: AWS's access key id (which names the
// key) and its secret access key (which does not). The secret half alone names no key, so no issuer is
// ever asked about it: it is recorded, linked to its key id when both arrive together, and left alone.

/** Secret half → the token type of the half that names the key. */
export const SECRET_HALVES: Readonly<Record<string, string>> = {
  aws_secret_access_key: "aws_access_key_id",
};

/** The type of the key-naming half when `type` is a secret half; undefined otherwise. */
export const keyHalfOf = (type: string): string | undefined => SECRET_HALVES[type.toLowerCase()];
