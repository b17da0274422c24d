import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  AwsJsonClient,
  type AwsJsonClientOptions,
  awsClientFromEnv,
  DYNAMODB,
  KMS,
  regionalEndpoint,
  SQS,
} from "../../lib/aws/aws-json-client.js";
import { type AwsCredentials, signRequest } from "../../lib/aws/sigv4.js";
import { AwsError, ConfigError } from "../../lib/errors.js";
import { awsError, awsJson, listen } from "../helpers/fake-aws.js";
import type { LoopbackServer } from "../helpers/loopback-server.js";

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Fake extends LoopbackServer {
  requests: Seen[];
}

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A loopback server that records each request and answers with `respond` (the request's index given). */
async function fake(respond: (res: ServerResponse, index: number, seen: Seen) => void): Promise<Fake> {
  const requests: Seen[] = [];
  const server = await listen((req, res, body) => {
    const seen = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body: body.toString("utf8"),
    };
    requests.push(seen);
    respond(res, requests.length - 1, seen);
  });
  servers.push(server);
  return { ...server, requests };
}

const KEYS: AwsCredentials = { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret-key" };
const SESSION: AwsCredentials = {
  accessKeyId: "ASIATEST",
  secretAccessKey: "session-secret",
  sessionToken: "session-token/+=",
};

function client(
  service: typeof DYNAMODB,
  endpoint: string,
  options: Partial<AwsJsonClientOptions> = {},
): AwsJsonClient {
  return new AwsJsonClient(service, {
    region: "eu-west-1",
    credentials: () => KEYS,
    endpoint,
    baseDelayMs: 1,
    timeoutMs: 2_000,
    ...options,
  });
}

const parseAmzDate = (value: string) =>
  new Date(value.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"));

/**
 * Verifies the request's Authorization as a service would: recomputes the signature over what arrived
 * (method, path, the signed headers' values, the body bytes received) and compares.
 */
function expectSigned(
  seen: Seen,
  credentials: AwsCredentials,
  region: string,
  service: string,
  body = seen.body,
) {
  const authorization = String(seen.headers.authorization);
  const signedNames = /SignedHeaders=([^,]+),/.exec(authorization)?.[1]?.split(";") ?? [];
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    if (name !== "host" && name !== "x-amz-date" && name !== "x-amz-security-token") {
      headers[name] = String(seen.headers[name]);
    }
  }
  const recomputed = signRequest(
    { method: seen.method, url: new URL(seen.url, `http://${seen.headers.host}`), headers, body },
    { credentials, region, service, now: parseAmzDate(String(seen.headers["x-amz-date"])) },
  );
  return { authorization, expected: recomputed.authorization, signedNames };
}

describe("the request", () => {
  it("is a signed POST / of the JSON input, awsJson1_0 with the DynamoDB target", async () => {
    const server = await fake((res) => awsJson(res, "1.0", 200, { Item: { pk: { S: "a" } } }));
    const input = { TableName: "leaks", Key: { pk: { S: "LEAK#ü€" } }, ConsistentRead: true };
    await client(DYNAMODB, server.url).call("GetItem", input);

    expect(server.requests).toHaveLength(1);
    const seen = server.requests[0] as Seen;
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("/");
    expect(seen.headers["content-type"]).toBe("application/x-amz-json-1.0");
    expect(seen.headers["x-amz-target"]).toBe("DynamoDB_20120810.GetItem");
    expect(JSON.parse(seen.body)).toEqual(input);
    expect(seen.headers["x-amz-security-token"]).toBeUndefined();

    const date = parseAmzDate(String(seen.headers["x-amz-date"]));
    expect(Math.abs(date.getTime() - Date.now())).toBeLessThan(60_000);
    const { authorization, expected, signedNames } = expectSigned(seen, KEYS, "eu-west-1", "dynamodb");
    expect(signedNames).toEqual(["content-type", "host", "x-amz-date", "x-amz-target"]);
    expect(authorization).toContain("Credential=AKIDTEST/");
    expect(authorization).toContain("/eu-west-1/dynamodb/aws4_request,");
    expect(authorization).toBe(expected);
    // The signature covers the body that arrived: any other body would not verify.
    expect(expectSigned(seen, KEYS, "eu-west-1", "dynamodb", `${seen.body} `).expected).not.toBe(
      authorization,
    );
    expect(expectSigned(seen, KEYS, "eu-west-1", "sqs").expected).not.toBe(authorization);
  });

  it("uses awsJson1_1 and the service's own target prefix and signing name for KMS, with the session token", async () => {
    const server = await fake((res) => awsJson(res, "1.1", 200, { KeyId: "k" }));
    await client(KMS, server.url, { credentials: () => SESSION, region: "ap-south-1" }).call("Decrypt", {
      CiphertextBlob: "AQID",
    });

    const seen = server.requests[0] as Seen;
    expect(seen.headers["content-type"]).toBe("application/x-amz-json-1.1");
    expect(seen.headers["x-amz-target"]).toBe("TrentService.Decrypt");
    expect(seen.headers["x-amz-security-token"]).toBe(SESSION.sessionToken);
    const { authorization, expected, signedNames } = expectSigned(seen, SESSION, "ap-south-1", "kms");
    expect(signedNames).toContain("x-amz-security-token");
    expect(authorization).toContain("/ap-south-1/kms/aws4_request,");
    expect(authorization).toBe(expected);
  });

  it("asks for credentials on every request, so rotated ones are used", async () => {
    const server = await fake((res) => awsJson(res, "1.0", 200, {}));
    const rotation = [KEYS, SESSION];
    let calls = 0;
    const sqs = client(SQS, server.url, { credentials: () => rotation[calls++ % 2] as AwsCredentials });
    await sqs.call("SendMessage", { QueueUrl: "q", MessageBody: "1" });
    await sqs.call("SendMessage", { QueueUrl: "q", MessageBody: "2" });

    expect(calls).toBe(2);
    const [first, second] = server.requests as [Seen, Seen];
    expect(first.headers["x-amz-target"]).toBe("AmazonSQS.SendMessage");
    const a = expectSigned(first, KEYS, "eu-west-1", "sqs");
    const b = expectSigned(second, SESSION, "eu-west-1", "sqs");
    expect(a.authorization).toBe(a.expected);
    expect(b.authorization).toBe(b.expected);
    expect(second.headers["x-amz-security-token"]).toBe(SESSION.sessionToken);
  });
});

describe("responses", () => {
  it("answers the parsed JSON output", async () => {
    const output = { Items: [{ pk: { S: "a" } }], Count: 1, LastEvaluatedKey: { pk: { S: "a" } } };
    const server = await fake((res) => awsJson(res, "1.0", 200, output));
    await expect(client(DYNAMODB, server.url).call("Query", {})).resolves.toEqual(output);
  });

  it("answers {} for an empty body", async () => {
    const server = await fake((res) =>
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end(),
    );
    await expect(client(DYNAMODB, server.url).call("DeleteItem", {})).resolves.toEqual({});
  });

  it("reads the error code from __type, namespace removed, and keeps the message", async () => {
    const server = await fake((res) =>
      awsJson(
        res,
        "1.0",
        400,
        awsError(
          "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
          "The conditional request failed",
        ),
      ),
    );
    const error = await client(DYNAMODB, server.url)
      .call("PutItem", {})
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({
      code: "ConditionalCheckFailedException",
      httpStatus: 400,
      transient: false,
    });
    expect((error as AwsError).message).toBe(
      "dynamodb:PutItem failed with 400 ConditionalCheckFailedException: The conditional request failed",
    );
    expect(server.requests).toHaveLength(1);
  });

  it("reads a __type without namespace and a capitalised Message", async () => {
    const server = await fake((res) =>
      awsJson(res, "1.1", 400, { __type: "NotFoundException", Message: "Key 'alias/x' does not exist" }),
    );
    await expect(client(KMS, server.url).call("Decrypt", {})).rejects.toMatchObject({
      code: "NotFoundException",
      message: "kms:Decrypt failed with 400 NotFoundException: Key 'alias/x' does not exist",
    });
  });

  it("reads the error code from X-Amzn-ErrorType, dropping the :url suffix, before the body", async () => {
    const server = await fake((res) =>
      res
        .writeHead(400, {
          "x-amzn-errortype": "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.kms/",
          "content-type": "application/x-amz-json-1.1",
        })
        .end(JSON.stringify({ __type: "com.amazonaws.kms#SomethingElse", message: "no such key" })),
    );
    await expect(client(KMS, server.url).call("DescribeKey", {})).rejects.toMatchObject({
      code: "ResourceNotFoundException",
      httpStatus: 400,
      message: "kms:DescribeKey failed with 400 ResourceNotFoundException: no such key",
    });
  });

  it("names a non-JSON error by its status", async () => {
    const server = await fake((res) =>
      res.writeHead(403, { "content-type": "text/html" }).end("<html><body>Forbidden</body></html>"),
    );
    const error = await client(SQS, server.url)
      .call("ReceiveMessage", {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ code: "Http403", httpStatus: 403, transient: false });
    expect((error as Error).message).toBe("sqs:ReceiveMessage failed with 403 Http403");
    expect(server.requests).toHaveLength(1);
  });
});

describe("retries", () => {
  it("does not retry a ValidationException", async () => {
    const server = await fake((res) =>
      awsJson(res, "1.0", 400, awsError("com.amazon.coral.validate#ValidationException", "bad key")),
    );
    await expect(client(DYNAMODB, server.url, { maxAttempts: 5 }).call("GetItem", {})).rejects.toMatchObject({
      code: "ValidationException",
      transient: false,
    });
    expect(server.requests).toHaveLength(1);
  });

  const transientAnswers: [string, (res: ServerResponse) => void, string][] = [
    [
      "400 ThrottlingException",
      (res) => awsJson(res, "1.1", 400, awsError("ThrottlingException", "Rate exceeded")),
      "ThrottlingException",
    ],
    [
      "400 ProvisionedThroughputExceededException",
      (res) =>
        awsJson(
          res,
          "1.0",
          400,
          awsError("com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "slow down"),
        ),
      "ProvisionedThroughputExceededException",
    ],
    [
      "500 InternalServerError",
      (res) => awsJson(res, "1.0", 500, awsError("InternalServerError", "oops")),
      "InternalServerError",
    ],
    [
      "503 with an HTML page",
      (res) => res.writeHead(503, { "content-type": "text/html" }).end("<h1>503</h1>"),
      "Http503",
    ],
    ["429 without a body", (res) => res.writeHead(429).end(), "Http429"],
  ];

  it.each(transientAnswers)(
    "retries %s up to maxAttempts, then throws it as transient",
    async (_, answer, code) => {
      const server = await fake(answer);
      const error = await client(DYNAMODB, server.url, { maxAttempts: 3 })
        .call("GetItem", { TableName: "t" })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AwsError);
      expect(error).toMatchObject({ code, transient: true });
      expect(server.requests).toHaveLength(3);
      // Every attempt is a full, freshly signed copy of the same call.
      for (const seen of server.requests) {
        expect(seen.body).toBe('{"TableName":"t"}');
        const { authorization, expected } = expectSigned(seen, KEYS, "eu-west-1", "dynamodb");
        expect(authorization).toBe(expected);
      }
    },
  );

  it("honours maxAttempts", async () => {
    const server = await fake((res) => awsJson(res, "1.0", 500, awsError("InternalServerError", "oops")));
    await expect(client(DYNAMODB, server.url, { maxAttempts: 5 }).call("GetItem", {})).rejects.toBeInstanceOf(
      AwsError,
    );
    expect(server.requests).toHaveLength(5);

    const once = await fake((res) => awsJson(res, "1.0", 500, awsError("InternalServerError", "oops")));
    await expect(client(DYNAMODB, once.url, { maxAttempts: 1 }).call("GetItem", {})).rejects.toBeInstanceOf(
      AwsError,
    );
    expect(once.requests).toHaveLength(1);
  });

  it("answers the output of the attempt that succeeds after a 500", async () => {
    const server = await fake((res, index) =>
      index === 0
        ? awsJson(res, "1.0", 500, awsError("InternalServerError", "oops"))
        : awsJson(res, "1.0", 200, { Attributes: { n: { N: "2" } } }),
    );
    await expect(client(DYNAMODB, server.url).call("UpdateItem", {})).resolves.toEqual({
      Attributes: { n: { N: "2" } },
    });
    expect(server.requests).toHaveLength(2);
  });

  it("retries a 200 whose body is not JSON (a truncated answer), and fails transiently if it persists", async () => {
    const garbled = await fake((res, index) => {
      if (index === 0)
        return res.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end('{"Item":');
      awsJson(res, "1.0", 200, { Item: { pk: { S: "a" } } });
    });
    await expect(client(DYNAMODB, garbled.url).call("GetItem", {})).resolves.toEqual({
      Item: { pk: { S: "a" } },
    });
    expect(garbled.requests).toHaveLength(2);

    const always = await fake((res) => res.writeHead(200).end("<html>proxy</html>"));
    const error = await client(DYNAMODB, always.url, { maxAttempts: 2 })
      .call("GetItem", {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ code: "SerializationError", transient: true });
    expect(always.requests).toHaveLength(2);
  });

  it("waits a jittered, doubling delay between attempts", async () => {
    const server = await fake((res) => awsJson(res, "1.0", 503, awsError("ServiceUnavailable", "busy")));
    const random = vi.fn(() => 1);
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    try {
      await client(DYNAMODB, server.url, { maxAttempts: 4, baseDelayMs: 3, random })
        .call("GetItem", {})
        .catch(() => undefined);
      expect(random).toHaveBeenCalledTimes(3);
      const delays = setTimeoutSpy.mock.calls
        .map(([, ms]) => ms)
        .filter((ms) => ms === 3 || ms === 6 || ms === 12);
      expect(delays).toEqual([3, 6, 12]);
    } finally {
      setTimeoutSpy.mockRestore();
    }
  });
});

describe("timeouts and network errors", () => {
  it("gives up on a server that never answers, as a transient timeout", async () => {
    const server = await fake(() => {
      // Never answers.
    });
    const started = Date.now();
    const error = await client(SQS, server.url, { timeoutMs: 100, maxAttempts: 2 })
      .call("SendMessageBatch", {})
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ code: "NetworkingError", transient: true, httpStatus: undefined });
    expect((error as Error).message).toMatch(/^sqs:SendMessageBatch timed out after 100 ms/);
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("times out a response whose body stalls after the headers", async () => {
    const server = await fake((res) => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0", "content-length": "100" });
      res.write('{"Items":[');
    });
    const error = await client(DYNAMODB, server.url, { timeoutMs: 100, maxAttempts: 1 })
      .call("Query", {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ code: "NetworkingError", transient: true });
    expect((error as Error).message).toMatch(/timed out after 100 ms/);
  });

  it("reports a refused connection as a transient NetworkingError", async () => {
    const closed = await fake(() => undefined);
    await closed.close();
    const error = await client(DYNAMODB, closed.url, { maxAttempts: 2 })
      .call("GetItem", {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ code: "NetworkingError", transient: true });
    expect((error as Error).message).toBe("dynamodb:GetItem unreachable (ECONNREFUSED)");
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

describe("endpoints", () => {
  it("refuses plain http to anything but loopback", () => {
    for (const endpoint of [
      "http://dynamodb.eu-west-1.amazonaws.com",
      "http://127.example.com:8000",
      "http://10.0.0.1:8000",
      "http://[::2]:8000",
    ]) {
      expect(() => client(DYNAMODB, endpoint), endpoint).toThrow(RangeError);
    }
  });

  it("accepts https anywhere and http on loopback", () => {
    for (const endpoint of [
      "https://dynamodb.example.com",
      "http://localhost:8000",
      "http://127.0.0.1:8000",
      "http://127.1.2.3",
      "http://[::1]:8000",
    ]) {
      expect(() => client(DYNAMODB, endpoint), endpoint).not.toThrow();
    }
    expect(() => new AwsJsonClient(DYNAMODB, { region: "us-east-1", credentials: () => KEYS })).not.toThrow();
  });

  it("builds the regional endpoint", () => {
    expect(regionalEndpoint("sqs", "eu-west-1")).toBe("https://sqs.eu-west-1.amazonaws.com");
    expect(regionalEndpoint("dynamodb", "cn-north-1")).toBe("https://dynamodb.cn-north-1.amazonaws.com.cn");
  });
});

describe("awsClientFromEnv", () => {
  const CREDENTIALS_ENV = { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "env-secret" };

  it("requires a region", () => {
    expect(() => awsClientFromEnv(SQS, { ...CREDENTIALS_ENV })).toThrow(ConfigError);
    expect(() =>
      awsClientFromEnv(SQS, { ...CREDENTIALS_ENV, AWS_DEFAULT_REGION: "eu-west-1" }),
    ).not.toThrow();
  });

  it("fails each call with CredentialsError, sending nothing, when the environment has no credentials", async () => {
    const server = await fake((res) => awsJson(res, "1.0", 200, {}));
    for (const env of [{}, { AWS_ACCESS_KEY_ID: "AKIDENV" }, { AWS_SECRET_ACCESS_KEY: "env-secret" }]) {
      const sqs = awsClientFromEnv(SQS, { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL: server.url, ...env });
      const error = await sqs.call("SendMessage", {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AwsError);
      expect(error).toMatchObject({ code: "CredentialsError", transient: false });
    }
    expect(server.requests).toHaveLength(0);
  });

  it("prefers AWS_ENDPOINT_URL_<SERVICE> to AWS_ENDPOINT_URL, and signs with the environment's credentials", async () => {
    const specific = await fake((res) => awsJson(res, "1.0", 200, { from: "sqs" }));
    const general = await fake((res) => awsJson(res, "1.1", 200, { from: "general" }));
    const env = {
      AWS_REGION: "eu-central-1",
      ...CREDENTIALS_ENV,
      AWS_SESSION_TOKEN: "env-token",
      AWS_ENDPOINT_URL: general.url,
      AWS_ENDPOINT_URL_SQS: specific.url,
    };

    await expect(awsClientFromEnv(SQS, env).call("SendMessage", {})).resolves.toEqual({ from: "sqs" });
    await expect(awsClientFromEnv(KMS, env).call("Decrypt", {})).resolves.toEqual({ from: "general" });
    expect(specific.requests).toHaveLength(1);
    expect(general.requests).toHaveLength(1);

    const seen = specific.requests[0] as Seen;
    expect(seen.headers["x-amz-security-token"]).toBe("env-token");
    const credentials = { accessKeyId: "AKIDENV", secretAccessKey: "env-secret", sessionToken: "env-token" };
    const { authorization, expected } = expectSigned(seen, credentials, "eu-central-1", "sqs");
    expect(authorization).toBe(expected);
  });
});
