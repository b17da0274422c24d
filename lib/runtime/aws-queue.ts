import { SQSClient } from "@aws-sdk/client-sqs";
import { awsClientDefaults } from "../aws/client-config.js";
import { SqsRemediationQueue } from "../queue/sqs-queue.js";
import { type Env, required } from "./aws-env.js";

export const awsQueue = (env: Env = process.env) =>
  new SqsRemediationQueue({ sqs: new SQSClient(awsClientDefaults()), queueUrl: required(env, "QUEUE_URL") });
