import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "./nag.js";
import { TourniquetStack } from "./tourniquet-stack.js";

// Stage comes from context: `cdk synth -c stage=prod` (default "dev"); the stack validates it and its
// settings (infra/stages.json, or -c stageSettings='{…}'). cdk-nag's AwsSolutions pack checks every
// resource (CDK policy validation): an unacknowledged finding fails the synth; each suppression is justified next to its resource.
const app = new App();
new TourniquetStack(app, "TourniquetStack");
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
