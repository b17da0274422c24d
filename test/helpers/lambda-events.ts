import { createHash, randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, Context, SQSEvent, SQSRecord } from "aws-lambda";

// Fixture events shaped as API Gateway HTTP API (payload 2.0) and SQS deliver them to Lambda.

export function apiEvent(
  routeKey: string,
  options: {
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    pathParameters?: Record<string, string>;
    queryStringParameters?: Record<string, string>;
    claims?: Record<string, string>;
    /** API Gateway base64-encodes bodies it does not take for text. */
    base64?: boolean;
  } = {},
): APIGatewayProxyEventV2 {
  const [method = "GET", routePath = "/"] = routeKey.split(" ");
  const path = options.path ?? routePath;
  const now = Date.now();
  const requestContext = {
    accountId: "000000000000",
    apiId: "tqapi00000",
    domainName: "tqapi00000.execute-api.us-east-1.amazonaws.com",
    domainPrefix: "tqapi00000",
    http: { method, path, protocol: "HTTP/1.1", sourceIp: "192.0.2.10", userAgent: "GitHub-Hookshot/test" },
    requestId: randomUUID(),
    routeKey,
    stage: "$default",
    time: new Date(now).toUTCString(),
    timeEpoch: now,
    ...(options.claims
      ? {
          authorizer: {
            jwt: { claims: options.claims, scopes: null },
            principalId: "",
            integrationLatency: 0,
          },
        }
      : {}),
  };
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.queryStringParameters ?? {}).toString(),
    headers: Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    ...(options.queryStringParameters ? { queryStringParameters: options.queryStringParameters } : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext,
    ...(options.body !== undefined
      ? { body: options.base64 ? Buffer.from(options.body).toString("base64") : options.body }
      : {}),
    isBase64Encoded: options.base64 ?? false,
  };
}

export function sqsRecord(body: string, receiveCount = 1): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${randomUUID()}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: now,
      SenderId: "AROAEXAMPLE:tourniquet-PartnerReport",
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:tourniquet-remediation",
    awsRegion: "us-east-1",
  };
}

export const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

export function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "2026/01/01/[$LATEST]test",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
