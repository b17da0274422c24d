import { App } from "aws-cdk-lib";
import { TourniquetStack } from "./tourniquet-stack.js";

// Stage comes from context: `cdk synth -c stage=prod` (default "dev"); the stack validates it.
const app = new App();
new TourniquetStack(app, "TourniquetStack");
