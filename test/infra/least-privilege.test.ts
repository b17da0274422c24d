import { App, Stack, Validations } from "aws-cdk-lib";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { describe, expect, it } from "vitest";
import { AwsSolutionsChecks } from "../../infra/nag.js";
import {
  actionsOf,
  actionsOn,
  environmentOf,
  functionId,
  names,
  onlyLogicalId,
  statementsOf,
  synth,
} from "./synth.js";

// Who may do what: each function's IAM statements, read from the synthesized template.
const { template } = synth();
const fn = {
  intake: functionId(template, "PartnerReport"),
  worker: functionId(template, "Remediate"),
  admin: functionId(template, "AdminApi"),
  healthz: functionId(template, "Healthz"),
  sweep: functionId(template, "Sweep"),
  webhook: functionId(template, "GithubWebhook"),
};
const tokenKey = onlyLogicalId(template, "AWS::KMS::Key", {
  Properties: { Description: "Tourniquet (dev): seals leaked tokens in remediation messages" },
});
const dataKey = Object.keys(template.findResources("AWS::KMS::Key")).find((id) => id !== tokenKey) as string;
const table = onlyLogicalId(template, "AWS::DynamoDB::Table");
const queue = Object.keys(template.findResources("AWS::SQS::Queue")).find(
  (id) => template.findResources("AWS::SQS::Queue")[id]?.Properties.RedrivePolicy,
) as string;
const parameter = onlyLogicalId(template, "AWS::SSM::Parameter");
const secretNamed = (name: string) =>
  onlyLogicalId(template, "AWS::SecretsManager::Secret", { Properties: { Name: `tourniquet/dev/${name}` } });
/** The config's secrets, one per group: issuers' HMAC secrets, channel credentials, the GitHub App's. */
const secrets = {
  issuers: secretNamed("secrets"),
  channels: secretNamed("channel-secrets"),
  githubApp: secretNamed("github-app-secrets"),
};

const allActions = (fnId: string) => statementsOf(template, fnId).flatMap(actionsOf);

describe("token key", () => {
  it("the intake may only generate data keys with it: it can seal a token, never open one", () => {
    expect(actionsOn(template, fn.intake, tokenKey)).toEqual(["kms:GenerateDataKey"]);
  });

  it("the webhook may not use it at all: it records alerts, and the worker fetches and seals their secrets", () => {
    expect(actionsOn(template, fn.webhook, tokenKey)).toEqual([]);
  });

  it("the worker may decrypt with it, and seal the secrets of the App alerts it fetches", () => {
    expect(actionsOn(template, fn.worker, tokenKey).sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
  });

  it("the admin API, the health check and the sweep may not use it at all", () => {
    expect(actionsOn(template, fn.admin, tokenKey)).toEqual([]);
    expect(actionsOn(template, fn.healthz, tokenKey)).toEqual([]);
    expect(actionsOn(template, fn.sweep, tokenKey)).toEqual([]);
  });

  it("no function may decrypt with any key it is not meant to: only the worker holds kms:Decrypt on the token key", () => {
    for (const id of [fn.intake, fn.webhook, fn.admin, fn.healthz, fn.sweep]) {
      const decrypts = statementsOf(template, id).filter(
        (s) => actionsOf(s).some((a) => a === "kms:Decrypt" || a === "kms:*") && names(s, tokenKey),
      );
      expect(decrypts).toEqual([]);
    }
  });
});

describe("email and secrets", () => {
  it("only the worker may send email, and only from the configured SES identity", () => {
    for (const id of [fn.intake, fn.webhook, fn.admin, fn.healthz, fn.sweep]) {
      expect(allActions(id).filter((a) => a.startsWith("ses:"))).toEqual([]);
    }
    const ses = statementsOf(template, fn.worker).filter((s) => actionsOf(s).includes("ses:SendEmail"));
    expect(ses).toHaveLength(1);
    expect(JSON.stringify(ses[0]?.Resource)).toContain(":identity/example.com");
    expect(JSON.stringify(ses[0]?.Resource)).not.toContain("*");
  });

  it("the worker may create and update secrets only under this stage's replacements prefix", () => {
    const writes = statementsOf(template, fn.worker).filter((s) =>
      actionsOf(s).includes("secretsmanager:CreateSecret"),
    );
    expect(writes).toHaveLength(1);
    expect(actionsOf(writes[0] as never).sort()).toEqual([
      "secretsmanager:CreateSecret",
      "secretsmanager:PutSecretValue",
      "secretsmanager:TagResource",
    ]);
    expect(JSON.stringify(writes[0]?.Resource)).toMatch(/:secret:tourniquet\/dev\/replacements\/\*"/);
    for (const id of [fn.intake, fn.admin, fn.healthz]) {
      expect(
        allActions(id).filter(
          (a) => a === "secretsmanager:CreateSecret" || a === "secretsmanager:PutSecretValue",
        ),
      ).toEqual([]);
    }
  });

  it("the replacement secrets' key is usable by the worker only through Secrets Manager", () => {
    const viaSecrets = statementsOf(template, fn.worker).filter(
      (s) => names(s, dataKey) && JSON.stringify(s.Condition ?? {}).includes("secretsmanager."),
    );
    expect(viaSecrets.flatMap(actionsOf).sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
  });

  it("the admin API reads no config, no secrets and sends no mail", () => {
    expect(actionsOn(template, fn.admin, parameter)).toEqual([]);
    for (const secret of Object.values(secrets)) expect(actionsOn(template, fn.admin, secret)).toEqual([]);
  });

  it("the sweep reads the config but no channel's secret, sends no mail, and may only send to the queue", () => {
    expect(actionsOn(template, fn.sweep, parameter)).toContain("ssm:GetParameter");
    expect(actionsOn(template, fn.sweep, secrets.channels)).toEqual([]);
    expect(allActions(fn.sweep).filter((a) => a.startsWith("ses:"))).toEqual([]);
    const onQueue = actionsOn(template, fn.sweep, queue);
    expect(onQueue).toContain("sqs:SendMessage");
    expect(onQueue.filter((a) => a === "sqs:ReceiveMessage" || a === "sqs:DeleteMessage")).toEqual([]);
  });

  // Each function reads the secrets it uses and no other: the intake never holds the GitHub App's key
  // or a channel's credentials; the webhook no issuer's secret. The worker fetches App alerts and the
  // sweep lists them, so both read the App's.
  it.each([
    ["intake", () => fn.intake, ["issuers"]],
    ["GitHub webhook", () => fn.webhook, ["githubApp"]],
    ["worker", () => fn.worker, ["issuers", "channels", "githubApp"]],
    ["admin API", () => fn.admin, []],
    ["sweep", () => fn.sweep, ["issuers", "githubApp"]],
    ["health check", () => fn.healthz, []],
  ] as const)("the %s may read exactly the secrets %j", (_name, id, readable) => {
    for (const [group, secret] of Object.entries(secrets)) {
      const granted = actionsOn(template, id(), secret);
      if ((readable as readonly string[]).includes(group)) {
        expect(granted, group).toContain("secretsmanager:GetSecretValue");
      } else {
        expect(granted, group).toEqual([]);
      }
    }
  });

  it("no function may read a secret through a wildcard", () => {
    for (const id of Object.values(fn)) {
      const reads = statementsOf(template, id).filter((s) =>
        actionsOf(s).some((a) => a === "secretsmanager:GetSecretValue" || a === "secretsmanager:*"),
      );
      for (const statement of reads) expect(JSON.stringify(statement.Resource)).not.toContain("*");
    }
  });

  it("the health check has no permissions beyond its logs", () => {
    expect(statementsOf(template, fn.healthz)).toEqual([]);
  });

  it("no function policy grants on every resource", () => {
    for (const id of Object.values(fn)) {
      expect(statementsOf(template, id).filter((s) => JSON.stringify(s.Resource) === '"*"')).toEqual([]);
    }
  });
});

describe("environment variables and grants go together", () => {
  // Variable → the resource it names, and an action the holder must be allowed on it.
  const pairs = {
    TABLE_NAME: [table, "dynamodb:PutItem"],
    QUEUE_URL: [queue, "sqs:SendMessage"],
    TOKEN_KEY_ID: [tokenKey, undefined],
    TOURNIQUET_CONFIG_PARAMETER: [parameter, "ssm:GetParameter"],
    TOURNIQUET_SECRETS_ARN: [secrets.issuers, "secretsmanager:GetSecretValue"],
    TOURNIQUET_CHANNEL_SECRETS_ARN: [secrets.channels, "secretsmanager:GetSecretValue"],
    TOURNIQUET_GITHUB_APP_SECRETS_ARN: [secrets.githubApp, "secretsmanager:GetSecretValue"],
  } as const;

  it.each(Object.entries(fn))(
    "%s: each variable names its resource, with the grant; no grant without the variable",
    (_name, id) => {
      const env = environmentOf(template, id);
      for (const [variable, [resource, action]] of Object.entries(pairs)) {
        const granted = actionsOn(template, id, resource);
        if (variable in env) {
          expect(JSON.stringify(env[variable]), variable).toContain(`"${resource}"`);
          if (action) expect(granted, variable).toContain(action);
          else expect(granted.length, variable).toBeGreaterThan(0);
        } else {
          expect(granted, `${variable} not set, yet granted`).toEqual([]);
        }
      }
    },
  );

  it("the worker consumes the queue, and sends to it (the next steps of leaks revoked together) but to no other", () => {
    const onQueue = actionsOn(template, fn.worker, queue);
    expect(onQueue).toEqual(
      expect.arrayContaining(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"]),
    );
    const sends = statementsOf(template, fn.worker).filter((s) =>
      JSON.stringify(s.Action).includes("sqs:Send"),
    );
    expect(sends.map((s) => JSON.stringify(s.Resource))).toEqual([expect.stringContaining(`"${queue}"`)]);
  });

  it("the intake, the webhook and the worker get the config; the worker the SES identity and secrets prefix", () => {
    for (const id of [fn.intake, fn.worker]) {
      expect(environmentOf(template, id)).toMatchObject({
        TOURNIQUET_CONFIG_PARAMETER: { Ref: parameter },
        TOURNIQUET_SECRETS_ARN: { Ref: secrets.issuers },
      });
    }
    for (const id of [fn.webhook, fn.worker]) {
      expect(environmentOf(template, id)).toMatchObject({
        TOURNIQUET_CONFIG_PARAMETER: { Ref: parameter },
        TOURNIQUET_GITHUB_APP_SECRETS_ARN: { Ref: secrets.githubApp },
      });
    }
    expect(environmentOf(template, fn.webhook)).not.toHaveProperty("TOURNIQUET_SECRETS_ARN");
    expect(environmentOf(template, fn.worker)).toMatchObject({
      TOURNIQUET_CHANNEL_SECRETS_ARN: { Ref: secrets.channels },
    });
    expect(environmentOf(template, fn.worker)).toMatchObject({
      SES_IDENTITY: "example.com",
      SECRETS_PREFIX: "tourniquet/dev/replacements",
      SECRETS_KEY_ID: { "Fn::GetAtt": [dataKey, "Arn"] },
    });
    for (const id of [fn.intake, fn.sweep]) {
      expect(environmentOf(template, id)).toMatchObject({
        GITHUB_PUBLIC_KEYS_URL: "https://api.github.com/meta/public_keys/secret_scanning",
      });
    }
  });
});

describe("cdk-nag AwsSolutions", () => {
  it("finds nothing unacknowledged in the stack", () => {
    const { app } = synth();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it("does fail the synth on a finding (the check is live)", () => {
    const app = new App();
    new Queue(new Stack(app, "Bad"), "Unencrypted");
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });
});
