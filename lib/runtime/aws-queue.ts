import { awsClientFromEnv, SQS } from "../aws/aws-json-client.js";
import { SqsRemediationQueue } from "../queue/sqs-queue.js";
import { type Env, required } from "./aws-env.js";

export const awsQueue = (env: Env = process.env) =>
  new SqsRemediationQueue({ sqs: awsClientFromEnv(SQS, env), queueUrl: required(env, "QUEUE_URL") });
