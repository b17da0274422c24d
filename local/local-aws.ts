import type { AwsTransportOptions } from "../lib/issuers/aws/lazy-aws-iam-access.js";
import { SandboxAws } from "./sandbox/sandbox-aws.js";

// The local stack's fake AWS (STS and IAM, query protocol, SigV4 checked) on its own loopback port: the
// account Tourniquet "runs in" and a member account whose responder role it assumes, as
// config/local.json names them. The AWS adapter reaches it through explicit endpoints and the home
// principal's credentials, so no AWS_* variable of the developer's shell is read or changed.

export const LOCAL_AWS = {
  homeAccount: "123456789012",
  memberAccount: "210987654321",
  roleName: "tourniquet-responder",
  externalId: "tourniquet-local",
} as const;

export interface LocalAws {
  aws: SandboxAws;
  /** How the AWS adapter reaches the fake: endpoints, region and Tourniquet's own credentials. */
  transport: AwsTransportOptions;
}

export async function startLocalAws(): Promise<LocalAws> {
  // A fresh principal per start (the fake makes its key): the fake keeps nothing across restarts.
  const aws = await SandboxAws.start({ home: { accountId: LOCAL_AWS.homeAccount, userName: "tourniquet" } });
  aws.addAccount(LOCAL_AWS.memberAccount);
  aws.addRole(LOCAL_AWS.memberAccount, LOCAL_AWS.roleName, { externalId: LOCAL_AWS.externalId });
  return {
    aws,
    transport: {
      clientConfig: {
        region: "us-east-1",
        credentials: { accessKeyId: aws.home.accessKeyId, secretAccessKey: aws.home.secretAccessKey },
        endpoints: { sts: aws.stsUrl, iam: aws.iamUrl },
      },
    },
  };
}
