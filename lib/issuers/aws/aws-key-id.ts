import { IssuerError } from "../../errors.js";

// An IAM access key is named `<account>:<user>:<access key id>`: all that UpdateAccessKey and its kin
// need, readable in the timeline. The access key id is an identifier, not a secret (AWS prints it in
// CloudTrail and the console); the secret access key never appears in a key id.

/** A long-term IAM user key (AKIA…); ASIA… keys are temporary session credentials, not IAM's to deactivate. */
export const IAM_USER_KEY_ID = /^AKIA[A-Z2-7]{16}$/;

export interface AwsKeyRef {
  accountId: string;
  /** Empty when the key was gone before its user could be read. */
  userName: string;
  accessKeyId: string;
}

export const formatAwsKeyId = (ref: AwsKeyRef) => `${ref.accountId}:${ref.userName}:${ref.accessKeyId}`;

export function parseAwsKeyId(keyId: string): AwsKeyRef {
  // IAM user names hold no colon ([\w+=,.@-]), so the three parts split cleanly.
  const [accountId = "", userName = "", accessKeyId = "", ...rest] = keyId.split(":");
  if (rest.length > 0 || !/^\d{12}$/.test(accountId) || !userName || !IAM_USER_KEY_ID.test(accessKeyId)) {
    throw new IssuerError(`not an AWS key id (<account>:<user>:<access key id>): ${keyId}`, {
      transient: false,
    });
  }
  return { accountId, userName, accessKeyId };
}
