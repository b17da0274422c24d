import middy from "@middy/core";
import type { ScheduledEvent } from "aws-lambda";
import type { Log } from "../lib/log.js";
import { awsSweepDeps } from "../lib/runtime/aws-sweep.js";
import { createLogger } from "../lib/runtime/logger.js";
import { runSweep, type SweepDeps, type SweepResult } from "../lib/schedule/run-sweep.js";

/** EventBridge schedule → the periodic sweep: save GitHub's partner keys, re-send stuck leaks. */
export function createSweepHandler(deps: () => SweepDeps) {
  return middy<ScheduledEvent, SweepResult>().handler(async () => runSweep(deps()));
}

const log: Log = createLogger();
let deps: SweepDeps | undefined;
export const handler = createSweepHandler(() => (deps ??= awsSweepDeps(log)));
