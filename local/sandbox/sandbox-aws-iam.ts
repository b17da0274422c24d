import { accessDenied } from "./sandbox-aws-faults.js";
import type { AwsAccount, AwsUser } from "./sandbox-aws-state.js";
import type { ActionAnswer, ActionContext } from "./sandbox-aws-sts.js";
import { isoDate, type XmlObject } from "./sandbox-aws-xml.js";

// IAM's actions the issuer uses (API reference 2010-05-08; element names from @aws-sdk/client-iam's
// schemas; error codes and statuses from its modelled errors: NoSuchEntity 404, LimitExceeded 409).
// Every action acts in the signing principal's account. Lists page with Marker/MaxItems/IsTruncated.

export const IAM_ACTIONS = new Set([
  "GetAccessKeyLastUsed",
  "ListAccessKeys",
  "GetUser",
  "ListAttachedUserPolicies",
  "UpdateAccessKey",
  "DeleteAccessKey",
  "AttachUserPolicy",
  "DetachUserPolicy",
  "CreateAccessKey",
]);

const noSuchEntity = (message: string): ActionAnswer => ({
  error: { status: 404, code: "NoSuchEntity", message },
});
const validation = (message: string): ActionAnswer => ({
  error: { status: 400, code: "ValidationError", message },
});

/** The user an action names (UserName, or the signing user when absent), if it names one. */
export function targetUser(ctx: ActionContext): { name: string; arn: string } | undefined {
  const name = ctx.params.get("UserName") ?? (ctx.principal.kind === "user" ? ctx.principal.user.name : "");
  if (!name) return undefined;
  const account = ctx.principal.account;
  const user = account.users.get(name);
  return { name, arn: user?.arn ?? `arn:${account.partition}:iam::${account.id}:user/${name}` };
}

/** AccessDenied for `action`, worded over the resource AWS names (the user; `*` for key lookups). */
export function iamDenied(action: string, ctx: ActionContext): ActionAnswer {
  const resource = action === "GetAccessKeyLastUsed" ? "*" : (targetUser(ctx)?.arn ?? "*");
  return { error: accessDenied(ctx.principal.arn, `iam:${action}`, resource) };
}

export function iamAction(action: string, ctx: ActionContext): ActionAnswer {
  const account = ctx.principal.account;
  if (action === "GetAccessKeyLastUsed") return lastUsed(account, ctx.params.get("AccessKeyId") ?? "");
  const name = targetUser(ctx)?.name;
  if (!name) return validation("Must specify userName when calling with non-User credentials");
  const user = account.users.get(name);
  if (!user) return noSuchEntity(`The user with name ${name} cannot be found.`);
  const keyId = ctx.params.get("AccessKeyId") ?? "";
  const key = user.keys.find((k) => k.accessKeyId === keyId);
  const noKey = () => noSuchEntity(`The Access Key with id ${keyId} cannot be found.`);
  switch (action) {
    case "ListAccessKeys":
      return page(ctx, "AccessKeyMetadata", user.keys, (k) => ({
        UserName: user.name,
        AccessKeyId: k.accessKeyId,
        Status: k.status,
        CreateDate: isoDate(k.createDate),
      }));
    case "GetUser":
      return { result: { User: userXml(user) } };
    case "ListAttachedUserPolicies":
      return page(ctx, "AttachedPolicies", user.policies, (arn) => ({
        PolicyName: arn.split("/").pop(),
        PolicyArn: arn,
      }));
    case "UpdateAccessKey": {
      const status = ctx.params.get("Status");
      if (status !== "Active" && status !== "Inactive") {
        return validation(
          "1 validation error detected: Value at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]",
        );
      }
      if (!key) return noKey();
      key.status = status;
      return { result: undefined };
    }
    case "DeleteAccessKey":
      if (!key) return noKey();
      user.keys = user.keys.filter((k) => k !== key);
      return { result: undefined };
    case "AttachUserPolicy":
    case "DetachUserPolicy":
      return attachment(action, account, user, ctx.params.get("PolicyArn") ?? "");
    default:
      return createKey(ctx, user);
  }
}

function lastUsed(account: AwsAccount, keyId: string): ActionAnswer {
  for (const user of account.users.values()) {
    const key = user.keys.find((k) => k.accessKeyId === keyId);
    if (!key) continue;
    const used = key.lastUsed;
    return {
      result: {
        UserName: user.name,
        // Never used: no LastUsedDate, and "N/A" for service and region.
        AccessKeyLastUsed: used
          ? { LastUsedDate: isoDate(used.date), ServiceName: used.service, Region: used.region }
          : { ServiceName: "N/A", Region: "N/A" },
      },
    };
  }
  return noSuchEntity(`The Access Key with id ${keyId} cannot be found.`);
}

function attachment(action: string, account: AwsAccount, user: AwsUser, arn: string): ActionAnswer {
  const m = /^arn:([\w-]+):iam::(aws|\d{12}):policy\/(?:[\w+=,.@/-]*\/)?[\w+=,.@-]+$/.exec(arn);
  if (!m) return { error: { status: 400, code: "InvalidInput", message: `ARN ${arn} is not valid.` } };
  if (m[1] !== account.partition) {
    return {
      error: {
        status: 400,
        code: "InvalidInput",
        message: `Partition "${m[1]}" is not valid for resource "${arn}".`,
      },
    };
  }
  const attached = user.policies.includes(arn);
  if (action === "AttachUserPolicy") {
    if (!attached) user.policies.push(arn);
    return { result: undefined };
  }
  if (!attached) return noSuchEntity(`Policy ${arn} was not found.`);
  user.policies = user.policies.filter((p) => p !== arn);
  return { result: undefined };
}

function createKey(ctx: ActionContext, user: AwsUser): ActionAnswer {
  if (user.keys.length >= 2) {
    return {
      error: { status: 409, code: "LimitExceeded", message: "Cannot exceed quota for AccessKeysPerUser: 2" },
    };
  }
  const key = ctx.world.addKey(ctx.principal.account.id, user.name);
  return {
    result: {
      AccessKey: {
        UserName: user.name,
        AccessKeyId: key.accessKeyId,
        Status: key.status,
        SecretAccessKey: key.secretAccessKey,
        CreateDate: isoDate(key.createDate),
      },
    },
  };
}

function userXml(user: AwsUser): XmlObject {
  const tags = Object.entries(user.tags).map(([Key, Value]) => ({ Key, Value }));
  return {
    Path: user.path,
    UserName: user.name,
    UserId: user.userId,
    Arn: user.arn,
    CreateDate: isoDate(user.createDate),
    Tags: tags.length > 0 ? tags : undefined,
  };
}

/** One page of a list: Marker is the offset of the next item, as an opaque string. */
function page<T>(
  ctx: ActionContext,
  element: string,
  items: T[],
  toXml: (item: T) => XmlObject,
): ActionAnswer {
  const params = ctx.params;
  const maxItems = Number(params.get("MaxItems") ?? ctx.pageSize);
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) {
    return validation("1 validation error detected: Value at 'maxItems' failed to satisfy constraint");
  }
  const marker = params.get("Marker");
  const start = marker ? Number(Buffer.from(marker, "base64url").toString("utf8")) : 0;
  if (!Number.isInteger(start) || start < 0) return validation("Invalid Marker.");
  const slice = items.slice(start, start + maxItems);
  const truncated = start + maxItems < items.length;
  return {
    result: {
      [element]: slice.map(toXml),
      IsTruncated: truncated,
      Marker: truncated ? Buffer.from(String(start + maxItems)).toString("base64url") : undefined,
    },
  };
}
