import type { Leak } from "../store/leak.js";
import type { AlertResolutionOwed } from "../store/leak-lifecycle.js";

// The comment Tourniquet leaves on a GitHub alert it resolves: what it did, when, and the leak id an
// administrator looks up. Only what the admin API shows already (leak id, key id, issuer, times): never
// the token, its preview or its fingerprint, since the repository's readers see the comment too.

/** Key ids can be long (an Azure resource path): the comment names one briefly. */
const KEY_ID_MAX = 100;

export function alertComment(leak: Leak, resolution: AlertResolutionOwed): string {
  const key = leak.keyId ? `, key ${bounded(leak.keyId)}` : "";
  const issuer = leak.issuer ? ` with ${leak.issuer}` : "";
  const checkedAt = leak.verifiedAt ?? leak.firstSeen;
  if (resolution === "false_positive")
    return `Tourniquet checked this token${issuer} at ${checkedAt}: the issuer does not know it, so it grants no access; resolved as a false positive by policy (leak ${leak.id}).`;
  if (leak.status === "revoked") {
    const replaced = leak.replacement
      ? ` A replacement key (${bounded(leak.replacement.keyId)}) was issued.`
      : "";
    return `Tourniquet revoked this token at ${leak.revokedAt ?? checkedAt} and verified it dead (leak ${leak.id}${key}).${replaced}`;
  }
  return `Tourniquet found this token already inactive when it was reported (checked${issuer} at ${checkedAt}); nothing needed revoking (leak ${leak.id}${key}).`;
}

const bounded = (text: string) => (text.length <= KEY_ID_MAX ? text : `${text.slice(0, KEY_ID_MAX - 1)}…`);
