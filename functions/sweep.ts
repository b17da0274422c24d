import middy from "@middy/core";
import type { ScheduledEvent } from "aws-lambda";
import type { Log } from "../lib/log.js";
import { awsSweepDeps } from "../lib/runtime/aws-sweep.js";
import { createLogger } from "../lib/runtime/logger.js";
import { runSweep, type SweepDeps, type SweepResult } from "../lib/schedule/run-sweep.js";
import { once } from "../lib/util/concurrency.js";

/** EventBridge schedule → the periodic sweep: save GitHub's partner keys, re-send stuck leaks. */
export function createSweepHandler(deps: () => Promise<SweepDeps>) {
  return middy<ScheduledEvent, SweepResult>().handler(async () => runSweep(await deps()));
}

const log: Log = createLogger();
export const handler = createSweepHandler(once(() => awsSweepDeps(log)));
