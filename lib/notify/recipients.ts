import type { Policy, TourniquetConfigFile } from "../config.js";
import type { Leak } from "../store/leak.js";
import type { Recipient } from "./leak-message.js";

/**
 * Who is told about a leak: the owner the issuer returned, else the owner mapped in the config (by
 * owner id or key id), else the security contact. The security contact is also copied when the
 * policy says so, and always when remediation failed.
 */
export function planRecipients(leak: Leak, config: TourniquetConfigFile, policy: Policy): Recipient[] {
  const mapped = [leak.owner?.id, leak.keyId]
    .map((key) => (key ? config.owners[key] : undefined))
    .find(Boolean);
  const owner: Recipient | undefined = leak.owner?.email
    ? { role: "owner", email: leak.owner.email, name: leak.owner.name }
    : mapped && { role: "owner", email: mapped.email, name: mapped.name };
  const contact = config.notifications.security_contact;
  if (!owner) return contact ? [{ role: "security_contact", email: contact }] : [];
  const recipients: Recipient[] = [owner];
  const copy = policy.copy_security_contact === "always" || leak.status === "failed";
  if (contact && copy && contact.toLowerCase() !== owner.email?.toLowerCase()) {
    recipients.push({ role: "security_contact", email: contact });
  }
  return recipients;
}
