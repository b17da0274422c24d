import type { AwsIamAccess } from "./aws-iam-access.js";
import { accountPartition } from "./aws-partition.js";
import type { AwsSdkIamAccessOptions } from "./aws-sdk-iam-access.js";

// The IAM and STS clients are loaded with the first AWS call, not when the config is read: a function
// that never meets an AWS key pays nothing for them at cold start beyond the bundle's bytes (esbuild
// keeps the dynamic import lazy). The adapter needs no per-account settings up front: each port call
// names its account (id, role, external id), and clients are made per account on first use.

/** What a runtime or a test adds: SDK overrides (endpoints, credentials, region, attempts) and a timeout. */
export type AwsTransportOptions = AwsSdkIamAccessOptions;

/** How the issuer registry gets the port. */
export type AwsIamAccessFactory = (transport?: AwsTransportOptions) => AwsIamAccess;

export const lazyAwsIamAccess: AwsIamAccessFactory = (transport = {}) => {
  let loaded: Promise<AwsIamAccess> | undefined;
  const access = () => {
    loaded ??= import("./aws-sdk-iam-access.js").then(
      ({ AwsSdkIamAccess }) => new AwsSdkIamAccess(transport),
    );
    return loaded;
  };
  return {
    accountOfKey: async (id, options) => (await access()).accountOfKey(id, options),
    // Synchronous, and needs no client: answered without loading the SDK clients.
    partition: (account) => accountPartition(account, transport.clientConfig?.region),
    lastUsed: async (account, id, options) => (await access()).lastUsed(account, id, options),
    listAccessKeys: async (account, user, options) => (await access()).listAccessKeys(account, user, options),
    getUser: async (account, user, options) => (await access()).getUser(account, user, options),
    listAttachedUserPolicies: async (account, user, options) =>
      (await access()).listAttachedUserPolicies(account, user, options),
    updateAccessKey: async (account, user, id, status, options) =>
      (await access()).updateAccessKey(account, user, id, status, options),
    deleteAccessKey: async (account, user, id, options) =>
      (await access()).deleteAccessKey(account, user, id, options),
    attachUserPolicy: async (account, user, arn, options) =>
      (await access()).attachUserPolicy(account, user, arn, options),
    createAccessKey: async (account, user, options) =>
      (await access()).createAccessKey(account, user, options),
  };
};
