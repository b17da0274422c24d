import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { expect } from "vitest";
import { TourniquetStack } from "../../infra/tourniquet-stack.js";

// Synthesize with the same context (feature flags) that `cdk synth` reads from cdk.json.
const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};

export interface SynthOptions {
  context?: Record<string, unknown>;
  /** Build the Lambda bundles with esbuild (slow); off, the template is the same but assets are stubs. */
  bundle?: boolean;
  stages?: Record<string, unknown>;
}

export function synth({ context = {}, bundle = false, stages }: SynthOptions = {}) {
  const app = new App({
    context: { ...cdkJson.context, ...(bundle ? {} : { "aws:cdk:bundling-stacks": [] }), ...context },
  });
  const stack = new TourniquetStack(app, "TourniquetStack", stages ? { stages } : {});
  return { app, stack, template: Template.fromStack(stack) };
}

export function onlyLogicalId(template: Template, type: string, props?: object): string {
  const ids = Object.keys(template.findResources(type, props));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** The logical id of the Lambda function named `tourniquet-<stage>-<id>`. */
export function functionId(template: Template, id: string, stage = "dev"): string {
  return onlyLogicalId(template, "AWS::Lambda::Function", {
    Properties: { FunctionName: `tourniquet-${stage}-${id}` },
  });
}

/** Every statement of every policy attached to the function's role. */
export function statementsOf(template: Template, fnId: string): Statement[] {
  const fn = template.findResources("AWS::Lambda::Function")[fnId];
  if (!fn) throw new Error(`no function ${fnId}`);
  const roleId = (fn.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
  return Object.values(template.findResources("AWS::IAM::Policy"))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** Does the statement's resource name this logical id? */
export const names = (statement: Statement, logicalId: string): boolean =>
  JSON.stringify(statement.Resource).includes(`"${logicalId}"`);

/** Actions the function may call on the resource with this logical id (conditioned or not). */
export function actionsOn(
  template: Template,
  fnId: string,
  logicalId: string,
  unconditioned = false,
): string[] {
  return statementsOf(template, fnId)
    .filter((s) => s.Effect === "Allow" && names(s, logicalId) && !(unconditioned && s.Condition))
    .flatMap(actionsOf);
}

export function environmentOf(template: Template, fnId: string): Record<string, unknown> {
  const fn = template.findResources("AWS::Lambda::Function")[fnId];
  return (fn?.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
}
