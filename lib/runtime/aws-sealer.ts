import { awsClientFromEnv, KMS } from "../aws/aws-json-client.js";
import { KmsEnvelopeSealer } from "../queue/kms-envelope-sealer.js";
import { type Env, required } from "./aws-env.js";

export const awsSealer = (env: Env) =>
  new KmsEnvelopeSealer({ kms: awsClientFromEnv(KMS, env), keyId: required(env, "TOKEN_KEY_ID") });
