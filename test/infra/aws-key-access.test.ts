import { Validations } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { AWS_IAM_READ_ACTIONS, AWS_IAM_WRITE_ACTIONS } from "../../infra/constructs/aws-key-access.js";
import { AwsSolutionsChecks } from "../../infra/nag.js";
import { resolveStageSettings } from "../../infra/stages.js";
import { actionsOf, functionId, type Statement, statementsOf, synth } from "./synth.js";

// The `aws_iam` issuer's permissions (stage setting awsIam), read from synthesized templates.
const ROLES = [
  "arn:aws:iam::111122223333:role/tourniquet-responder",
  "arn:aws:iam::444455556666:role/security/tourniquet-responder",
];
const FUNCTIONS = ["PartnerReport", "GithubWebhook", "Sweep", "Remediate", "AdminApi", "Healthz"] as const;
// The webhook only records App alerts (the worker fetches and verifies their secrets): no AWS access.
const VERIFIERS = ["PartnerReport", "Sweep", "Remediate"] as const;
const NOT_VERIFIERS = ["GithubWebhook", "AdminApi", "Healthz"] as const;
const USERS = {
  "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::", { Ref: "AWS::AccountId" }, ":user/*"]],
};
const QUARANTINE = {
  "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::aws:policy/AWSCompromisedKeyQuarantineV3"]],
};

const synthWith = (awsIam?: unknown) => synth({ stages: { dev: awsIam === undefined ? {} : { awsIam } } });

function statementsByFunction(awsIam?: unknown) {
  const { template } = synthWith(awsIam);
  return Object.fromEntries(
    FUNCTIONS.map((name) => [name, statementsOf(template, functionId(template, name))]),
  ) as Record<(typeof FUNCTIONS)[number], Statement[]>;
}

const isAwsKeyCall = (action: string) => action.startsWith("sts:") || action.startsWith("iam:");
/** The statements naming an STS or IAM action. */
const awsKeyStatements = (statements: Statement[]) =>
  statements.filter((s) => actionsOf(s).some(isAwsKeyCall));
/** The STS and IAM actions allowed on a resource (compared as JSON), with or without a condition. */
const actionsOnResource = (statements: Statement[], resource: unknown, conditioned = false) =>
  awsKeyStatements(statements)
    .filter((s) => s.Effect === "Allow" && Boolean(s.Condition) === conditioned)
    .filter((s) => {
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      return resources.some((r) => JSON.stringify(r) === JSON.stringify(resource));
    })
    .flatMap(actionsOf)
    .sort();

describe("without the awsIam stage setting", () => {
  it("no function gets any STS or IAM permission", () => {
    const byFunction = statementsByFunction();
    for (const name of FUNCTIONS) {
      expect(byFunction[name].flatMap(actionsOf).filter(isAwsKeyCall), name).toEqual([]);
    }
  });
});

describe("with responder roles only", () => {
  const byFunction = statementsByFunction({ responderRoles: ROLES });

  it.each(VERIFIERS)("%s may assume exactly the configured roles and ask STS for a key's account", (name) => {
    const statements = awsKeyStatements(byFunction[name]);
    const assume = statements.filter((s) => actionsOf(s).includes("sts:AssumeRole"));
    expect(assume).toEqual([{ Effect: "Allow", Action: "sts:AssumeRole", Resource: ROLES }]);
    expect(actionsOnResource(statements, "*")).toEqual(["sts:GetAccessKeyInfo"]);
    // Nothing else: no IAM call with the function's own role, no sts:TagSession.
    expect(statements.flatMap(actionsOf).sort()).toEqual(["sts:AssumeRole", "sts:GetAccessKeyInfo"]);
  });

  it.each(NOT_VERIFIERS)("%s gets nothing", (name) => {
    expect(byFunction[name].flatMap(actionsOf).filter(isAwsKeyCall)).toEqual([]);
  });

  it("no function may assume a role through a wildcard, and '*' is only ever sts:GetAccessKeyInfo's", () => {
    for (const name of FUNCTIONS) {
      for (const statement of byFunction[name]) {
        if (actionsOf(statement).includes("sts:AssumeRole")) {
          expect(JSON.stringify(statement.Resource)).not.toContain("*");
        }
        if (statement.Resource === "*") expect(actionsOf(statement), name).toEqual(["sts:GetAccessKeyInfo"]);
      }
    }
  });
});

describe("with ownAccount", () => {
  const byFunction = statementsByFunction({ ownAccount: true });

  it.each(VERIFIERS)("%s may read this account's users' keys", (name) => {
    expect(actionsOnResource(byFunction[name], USERS)).toEqual(
      expect.arrayContaining([...AWS_IAM_READ_ACTIONS].sort()),
    );
    expect(actionsOnResource(byFunction[name], "*")).toEqual(["sts:GetAccessKeyInfo"]);
    expect(byFunction[name].flatMap(actionsOf)).not.toContain("sts:AssumeRole");
  });

  it("only the worker may act on keys: deactivate, delete, create", () => {
    expect(actionsOnResource(byFunction.Remediate, USERS)).toEqual(
      [...AWS_IAM_READ_ACTIONS, ...AWS_IAM_WRITE_ACTIONS].sort(),
    );
    for (const name of ["PartnerReport", "GithubWebhook", "Sweep", "AdminApi", "Healthz"] as const) {
      const actions = byFunction[name].flatMap(actionsOf);
      for (const write of [...AWS_IAM_WRITE_ACTIONS, "iam:AttachUserPolicy"]) {
        expect(actions, `${name} ${write}`).not.toContain(write);
      }
    }
  });

  it("the worker may attach AWS's quarantine policy and no other, to users only", () => {
    const attach = byFunction.Remediate.filter((s) => actionsOf(s).includes("iam:AttachUserPolicy"));
    expect(attach).toEqual([
      {
        Effect: "Allow",
        Action: "iam:AttachUserPolicy",
        Resource: USERS,
        Condition: { ArnEquals: { "iam:PolicyARN": QUARANTINE } },
      },
    ]);
  });

  it("IAM calls apply to users, never roles or every resource", () => {
    for (const name of FUNCTIONS) {
      for (const statement of byFunction[name].filter((s) =>
        actionsOf(s).some((a) => a.startsWith("iam:")),
      )) {
        expect(statement.Resource, name).toEqual(USERS);
      }
    }
  });

  it("the admin API and the health check get nothing", () => {
    for (const name of NOT_VERIFIERS) {
      expect(byFunction[name].flatMap(actionsOf).filter(isAwsKeyCall)).toEqual([]);
    }
  });
});

describe("with both", () => {
  it("the verifiers get the roles and the reads, the worker alone the writes", () => {
    const byFunction = statementsByFunction({ responderRoles: ROLES.slice(0, 1), ownAccount: true });
    for (const name of VERIFIERS) {
      const actions = new Set(awsKeyStatements(byFunction[name]).flatMap(actionsOf));
      const expected = ["sts:AssumeRole", "sts:GetAccessKeyInfo", ...AWS_IAM_READ_ACTIONS];
      if (name === "Remediate") expected.push(...AWS_IAM_WRITE_ACTIONS, "iam:AttachUserPolicy");
      expect([...actions].sort(), name).toEqual(expected.sort());
    }
  });
});

describe("outputs", () => {
  it("name the verifying functions' roles and the worker's, for responder roles' trust policies", () => {
    const { template } = synthWith();
    const outputs = template.findOutputs("*");
    const roleOf = (name: string) => {
      const fn = template.findResources("AWS::Lambda::Function")[functionId(template, name)];
      return fn?.Properties.Role;
    };
    expect(outputs.AwsResponderPrincipals?.Value).toEqual({ "Fn::Join": [",", VERIFIERS.map(roleOf)] });
    expect(outputs.AwsWorkerRoleArn?.Value).toEqual(roleOf("Remediate"));
  });
});

describe("cdk-nag AwsSolutions", () => {
  it.each([
    ["roles", { responderRoles: ROLES }],
    ["own account", { ownAccount: true }],
    ["both", { responderRoles: ROLES, ownAccount: true }],
  ])("finds nothing unacknowledged with %s", (_name, awsIam) => {
    const { app } = synthWith(awsIam);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

describe("the awsIam stage setting", () => {
  const resolve = (awsIam: unknown) => resolveStageSettings("qa", { qa: { awsIam } });

  it("is absent by default", () => {
    expect(resolveStageSettings("qa", {}).awsIam).toBeUndefined();
  });

  it("takes role ARNs of the aws, aws-cn and aws-us-gov partitions, with paths", () => {
    for (const arn of [
      "arn:aws:iam::111122223333:role/tourniquet-responder",
      "arn:aws-cn:iam::111122223333:role/tourniquet-responder",
      "arn:aws-us-gov:iam::111122223333:role/security/incident/tourniquet-responder",
    ]) {
      expect(resolve({ responderRoles: [arn] }).awsIam).toEqual({ responderRoles: [arn], ownAccount: false });
    }
    expect(resolve({ ownAccount: true }).awsIam).toEqual({ responderRoles: [], ownAccount: true });
  });

  it.each([
    "arn:aws:iam::111122223333:role/*",
    "arn:aws:iam::111122223333:role/tourniquet-*",
    "arn:aws:iam::*:role/tourniquet-responder",
    "arn:aws:iam::111122223333:role/tourniquet-respond?r",
    "arn:aws:iam::111122223333:user/tourniquet-responder",
    "arn:aws-iso:iam::111122223333:role/tourniquet-responder",
    "arn:aws:iam::11112222333:role/tourniquet-responder",
    "arn:aws:iam::111122223333:role/",
    "arn:aws:iam::111122223333:role/path/",
    "*",
  ])("refuses %s", (arn) => {
    expect(() => resolve({ responderRoles: [arn] })).toThrow(
      /awsIam\.responderRoles\.0: must be an IAM role ARN/,
    );
  });

  it("refuses a setting that grants nothing, a role named twice, mixed partitions and unknown fields", () => {
    expect(() => resolve({})).toThrow(/awsIam: grants nothing/);
    expect(() => resolve({ responderRoles: [], ownAccount: false })).toThrow(/awsIam: grants nothing/);
    expect(() => resolve({ responderRoles: [ROLES[0], ROLES[0]] })).toThrow(/names a role twice/);
    expect(() =>
      resolve({ responderRoles: [ROLES[0], "arn:aws-cn:iam::111122223333:role/tourniquet-responder"] }),
    ).toThrow(/mixes partitions/);
    expect(() => resolve({ responderRoles: ROLES, roles: ROLES })).toThrow(/awsIam: Unrecognized key/);
  });
});
