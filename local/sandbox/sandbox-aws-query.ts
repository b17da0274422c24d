import type { IncomingHttpHeaders } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { authenticate } from "./sandbox-aws-auth.js";
import { type AwsFaultPlan, accessDenied } from "./sandbox-aws-faults.js";
import { IAM_ACTIONS, iamAction, iamDenied } from "./sandbox-aws-iam.js";
import { type AwsWorld, requestId } from "./sandbox-aws-state.js";
import { type ActionAnswer, STS_ACTIONS, stsAction } from "./sandbox-aws-sts.js";
import { type AwsService, errorXml, successXml } from "./sandbox-aws-xml.js";

// One query-protocol request, answered as STS or IAM would: the Action names the service, SigV4 names
// the principal (and its account), then the version, the scripted faults and denials, and the action
// itself. Each request becomes one entry of the call log, its secret-like parameters left out.

const VERSIONS: Record<AwsService, string> = { sts: "2011-06-15", iam: "2010-05-08" };
/** Request parameters that are never written to the call log. */
const SECRET_PARAM = /secret|token|password|privatekey/i;

/** One request as received: never a secret, a token or a signature. */
export interface AwsCall {
  service: AwsService | "unknown";
  action: string;
  /** The signing principal's account, when the request was authenticated. */
  account?: string | undefined;
  /** The signing principal's ARN (a user, or an assumed-role session). */
  principal?: string | undefined;
  /** The form parameters but Action and Version, any secret-like one left out. */
  params: Record<string, string>;
  status: number;
  code?: string | undefined;
  /** The x-amzn-RequestId answered (and in the XML). */
  requestId: string;
}

export interface QueryAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface QueryDeps {
  world: AwsWorld;
  faults: AwsFaultPlan;
  now: () => number;
  pageSize: number;
}

export interface QueryRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

export async function answerQuery(
  deps: QueryDeps,
  request: QueryRequest,
): Promise<{ answer: QueryAnswer; call: AwsCall; id: string }> {
  const form = new URLSearchParams(request.method === "POST" ? request.body : request.url.search.slice(1));
  const action = form.get("Action") ?? "";
  const service: AwsService | undefined = STS_ACTIONS.has(action)
    ? "sts"
    : IAM_ACTIONS.has(action)
      ? "iam"
      : undefined;
  const id = requestId();
  const call: AwsCall = {
    service: service ?? "unknown",
    action,
    params: loggedParams(form),
    status: 0,
    requestId: id,
  };
  const fail = (error: { status: number; code: string; message: string }): QueryAnswer => {
    call.code = error.code;
    return { status: error.status, contentType: "text/xml", body: errorXml(service ?? "iam", error, id) };
  };
  const answer = await dispatch(deps, request, { service, action, form, call, fail });
  call.status = answer.status;
  return { answer, call, id };
}

interface Parsed {
  service: AwsService | undefined;
  action: string;
  form: URLSearchParams;
  call: AwsCall;
  fail: (error: { status: number; code: string; message: string }) => QueryAnswer;
}

async function dispatch(deps: QueryDeps, request: QueryRequest, parsed: Parsed): Promise<QueryAnswer> {
  const { service, action, form, call, fail } = parsed;
  const invalidAction = {
    status: 400,
    code: "InvalidAction",
    message: `Could not find operation ${action} for version ${form.get("Version") ?? "NO_VERSION_SPECIFIED"}`,
  };
  if (!service) return fail(invalidAction);
  const auth = await authenticate(
    deps.world,
    {
      method: request.method,
      path: request.url.pathname,
      query: request.url.searchParams,
      headers: request.headers,
      body: request.body,
    },
    service,
    deps.now(),
  );
  if ("failure" in auth) return fail(auth.failure);
  const principal = auth.principal;
  call.account = principal.account.id;
  call.principal = principal.arn;
  if (principal.kind === "user") {
    // AWS records a long-term key's last use: what GetAccessKeyLastUsed answers later.
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(request.headers.authorization))?.[1];
    principal.key.lastUsed = { date: deps.now(), service, region: region ?? "us-east-1" };
  }
  if (form.get("Version") !== VERSIONS[service]) return fail(invalidAction);
  const fault = deps.faults.next(action, principal.account.id);
  if (fault?.delayMs) await sleep(fault.delayMs);
  if (fault?.code) {
    return fail({ status: fault.status ?? 400, code: fault.code, message: fault.message ?? fault.code });
  }
  const ctx = { world: deps.world, principal, params: form, now: deps.now(), pageSize: deps.pageSize };
  let result: ActionAnswer;
  const permission = `${service}:${action}`;
  const session = principal.kind === "session" ? principal.session : undefined;
  if (session?.allowedActions && !session.allowedActions.has(permission)) {
    // A session policy can only narrow what the role allows: an action it does not name is denied.
    result = {
      error: {
        ...accessDenied(principal.arn, permission, form.get("UserName") ?? "*"),
        message: `User: ${principal.arn} is not authorized to perform: ${permission} because no session policy allows the ${permission} action`,
      },
    };
  } else if (deps.faults.isDenied(principal.account.id, permission)) {
    result =
      service === "iam"
        ? iamDenied(action, ctx)
        : { error: accessDenied(principal.arn, `sts:${action}`, form.get("RoleArn") ?? "*") };
  } else {
    result = service === "sts" ? stsAction(action, ctx) : iamAction(action, ctx);
  }
  if ("error" in result) return fail(result.error);
  return {
    status: 200,
    contentType: "text/xml",
    body: successXml(service, action, result.result, call.requestId),
  };
}

function loggedParams(form: URLSearchParams): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of form) {
    if (name === "Action" || name === "Version" || SECRET_PARAM.test(name)) continue;
    params[name] = value;
  }
  return params;
}
