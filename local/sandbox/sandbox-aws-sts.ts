import { accessDenied } from "./sandbox-aws-faults.js";
import type { AwsPrincipal, AwsWorld } from "./sandbox-aws-state.js";
import { isoDate, type XmlObject } from "./sandbox-aws-xml.js";

// STS's actions the issuer uses: GetAccessKeyInfo, GetCallerIdentity and AssumeRole (API reference
// 2011-06-15; element names from @aws-sdk/client-sts's schemas).

export interface ActionContext {
  world: AwsWorld;
  principal: AwsPrincipal;
  params: URLSearchParams;
  now: number;
  /** Items per page of a list without MaxItems. */
  pageSize: number;
}

export type ActionAnswer =
  | { result: XmlObject | undefined }
  | { error: { status: number; code: string; message: string } };

const validation = (message: string): ActionAnswer => ({
  error: { status: 400, code: "ValidationError", message },
});

export const STS_ACTIONS = new Set(["GetAccessKeyInfo", "GetCallerIdentity", "AssumeRole"]);

export function stsAction(action: string, ctx: ActionContext): ActionAnswer {
  switch (action) {
    case "GetAccessKeyInfo":
      return getAccessKeyInfo(ctx);
    case "GetCallerIdentity":
      return {
        result: {
          UserId:
            ctx.principal.kind === "user"
              ? ctx.principal.user.userId
              : `${roleIdOf(ctx)}:${ctx.principal.arn.split("/").pop()}`,
          Account: ctx.principal.account.id,
          Arn: ctx.principal.arn,
        },
      };
    default:
      return assumeRole(ctx);
  }
}

/**
 * Any key id the fake ever issued (a deleted one too) names its account. A never-seen id answers 403
 * InvalidClientTokenId, as other AWS emulators report AWS does (UNCONFIRMED: AWS's documentation says
 * only that a deleted key "might return an error that the key doesn't exist"); the adapter tells it
 * from a refusal of its own credentials by asking GetCallerIdentity.
 */
function getAccessKeyInfo(ctx: ActionContext): ActionAnswer {
  const id = ctx.params.get("AccessKeyId") ?? "";
  if (!/^[\w]{16,128}$/.test(id)) {
    return validation(
      "1 validation error detected: Value at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]*",
    );
  }
  const account = ctx.world.accountOfKey(id);
  if (!account) {
    return {
      error: {
        status: 403,
        code: "InvalidClientTokenId",
        message: "The security token included in the request is invalid.",
      },
    };
  }
  return { result: { Account: account } };
}

function assumeRole(ctx: ActionContext): ActionAnswer {
  const roleArn = ctx.params.get("RoleArn") ?? "";
  const sessionName = ctx.params.get("RoleSessionName") ?? "";
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    return validation(
      "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
  }
  const duration = Number(ctx.params.get("DurationSeconds") ?? "3600");
  if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
    return validation(
      "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200",
    );
  }
  const m = /^arn:[\w-]+:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn);
  const account = m?.[1] ? ctx.world.accounts.get(m[1]) : undefined;
  const role = m?.[2] ? account?.roles.get(m[2]) : undefined;
  const denied = { error: accessDenied(ctx.principal.arn, "sts:AssumeRole", roleArn) };
  // AWS answers a missing role, an untrusted caller and a wrong external id alike: AccessDenied.
  if (!account || !role || role.arn !== roleArn) return denied;
  const caller = ctx.principal;
  const callerRoot = `arn:${caller.account.partition}:iam::${caller.account.id}:root`;
  const callerRoleArn = caller.kind === "session" ? caller.session.roleArn : caller.arn;
  if (!role.trusted.some((t) => t === callerRoot || t === callerRoleArn || t === caller.arn)) return denied;
  if (role.externalId !== undefined && ctx.params.get("ExternalId") !== role.externalId) {
    return { error: { ...denied.error, message: `${denied.error.message} (sts:ExternalId)` } };
  }
  const policy = ctx.params.get("Policy");
  const allowed = policy === null ? undefined : sessionPolicyActions(policy);
  if (allowed === null) {
    return {
      error: {
        status: 400,
        code: "MalformedPolicyDocument",
        message: "The session policy is not valid JSON",
      },
    };
  }
  const session = ctx.world.openSession(role, account, sessionName, Math.min(duration, 3600), allowed);
  return {
    result: {
      Credentials: {
        AccessKeyId: session.accessKeyId,
        SecretAccessKey: session.secretAccessKey,
        SessionToken: session.sessionToken,
        Expiration: isoDate(session.expiresAt),
      },
      AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${sessionName}`, Arn: session.arn },
    },
  };
}

function roleIdOf(ctx: ActionContext): string {
  if (ctx.principal.kind !== "session") return "";
  const name = ctx.principal.session.roleArn.split("/").pop() ?? "";
  return ctx.principal.account.roles.get(name)?.roleId ?? "";
}

/**
 * The actions a session policy allows (its Allow statements' `Action`s, exact names only: the issuer's
 * policy names each), or null when it is not a policy document.
 */
function sessionPolicyActions(document: string): ReadonlySet<string> | null {
  try {
    const parsed = JSON.parse(document) as { Statement?: { Effect?: string; Action?: string | string[] }[] };
    const actions = (parsed.Statement ?? [])
      .filter((statement) => statement.Effect === "Allow")
      .flatMap((statement) =>
        Array.isArray(statement.Action) ? statement.Action : [statement.Action ?? ""],
      );
    return new Set(actions);
  } catch {
    return null;
  }
}
