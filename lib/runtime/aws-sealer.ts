import { KMSClient } from "@aws-sdk/client-kms";
import { awsClientDefaults } from "../aws/client-config.js";
import { KmsEnvelopeSealer } from "../queue/kms-envelope-sealer.js";
import { type Env, required } from "./aws-env.js";

export const awsSealer = (env: Env) =>
  new KmsEnvelopeSealer({ kms: new KMSClient(awsClientDefaults()), keyId: required(env, "TOKEN_KEY_ID") });
