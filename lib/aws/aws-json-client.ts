import type { Agent } from "node:http";
import { AwsError, ConfigError } from "../errors.js";
import { isLoopbackHost, isTransientStatus, networkErrorCode } from "../http/outbound.js";
import { sleep } from "../util/concurrency.js";
import { type AwsCredentials, signRequest } from "./sigv4.js";

// A small client for the AWS APIs that speak the JSON protocols (awsJson1_0 / awsJson1_1): DynamoDB,
// SQS, KMS, SSM and Secrets Manager. Each call is one signed POST of a JSON body to the service's
// regional endpoint, with the operation in X-Amz-Target. It exists for cold starts: the intake Lambda
// loads in a fraction of the time the SDK v3 clients take (bench/bundles.ts), with the same retry rules
// (the SDK's "standard" mode: 3 attempts, exponential backoff with full jitter, throttling and 5xx).

export interface AwsJsonService {
  /** Endpoint prefix: `https://<prefix>.<region>.amazonaws.com`. */
  endpointPrefix: string;
  /** SigV4 signing name. */
  signingName: string;
  /** X-Amz-Target prefix, before `.<Operation>`. */
  targetPrefix: string;
  jsonVersion: "1.0" | "1.1";
  /** Service id in the SDK's endpoint variables: AWS_ENDPOINT_URL_<id> overrides the endpoint. */
  envId: string;
}

export const DYNAMODB: AwsJsonService = {
  endpointPrefix: "dynamodb",
  signingName: "dynamodb",
  targetPrefix: "DynamoDB_20120810",
  jsonVersion: "1.0",
  envId: "DYNAMODB",
};
export const SQS: AwsJsonService = {
  endpointPrefix: "sqs",
  signingName: "sqs",
  targetPrefix: "AmazonSQS",
  jsonVersion: "1.0",
  envId: "SQS",
};
export const KMS: AwsJsonService = {
  endpointPrefix: "kms",
  signingName: "kms",
  targetPrefix: "TrentService",
  jsonVersion: "1.1",
  envId: "KMS",
};
export const SSM: AwsJsonService = {
  endpointPrefix: "ssm",
  signingName: "ssm",
  targetPrefix: "AmazonSSM",
  jsonVersion: "1.1",
  envId: "SSM",
};
export const SECRETS_MANAGER: AwsJsonService = {
  endpointPrefix: "secretsmanager",
  signingName: "secretsmanager",
  targetPrefix: "secretsmanager",
  jsonVersion: "1.1",
  envId: "SECRETS_MANAGER",
};

/** Error codes AWS uses for throttling and passing faults; retried like a 5xx. */
const RETRYABLE_CODES = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "TransactionInProgressException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "RequestThrottled",
  "SlowDown",
  "PriorRequestNotComplete",
  "EC2ThrottledException",
  // Not throttling, but as transient: the SDK retries these too.
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalError",
  "InternalFailure",
  "ServiceUnavailable",
]);

export interface AwsJsonClientOptions {
  region: string;
  /** Called per request, so rotated credentials are picked up. */
  credentials: () => AwsCredentials;
  /** Overrides the regional endpoint (local engines, fakes); plain http only to loopback. */
  endpoint?: string | undefined;
  /** Attempts per call, the first included (SDK standard mode: 3). */
  maxAttempts?: number;
  /** Backoff base; attempt n waits a random time up to base * 2^(n-1), capped at 20 s. */
  baseDelayMs?: number;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  random?: () => number;
}

const MAX_DELAY_MS = 20_000;

interface RawResponse {
  status: number;
  header(name: string): string | undefined;
  text: string;
}

/**
 * Keep-alive agents, one per protocol, loaded with the first call. node:http rather than fetch: on the
 * bench machine it takes less than half the CPU per call, which a 1,000-token report makes 2,000 times.
 */
let transports:
  | Promise<Record<string, { request: typeof import("node:http").request; agent: Agent }>>
  | undefined;

function loadTransports() {
  transports ??= Promise.all([import("node:http"), import("node:https")]).then(([http, https]) => ({
    "http:": { request: http.request, agent: new http.Agent({ keepAlive: true, maxSockets: 50 }) },
    "https:": { request: https.request, agent: new https.Agent({ keepAlive: true, maxSockets: 50 }) },
  }));
  return transports;
}

async function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<RawResponse> {
  const transport = (await loadTransports())[url.protocol];
  if (!transport) throw new RangeError(`unsupported protocol ${url.protocol}`);
  return new Promise<RawResponse>((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        agent: transport.agent,
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let ended = false;
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          ended = true;
          const header = (name: string) => {
            const value = res.headers[name];
            return Array.isArray(value) ? value.join(",") : value;
          };
          resolve({ status: res.statusCode ?? 0, header, text: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", reject);
        // A body cut short (the timeout, a reset) ends in close without end.
        res.on("close", () => {
          if (!ended) reject(signal.reason ?? new Error("response closed before its end"));
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export class AwsJsonClient {
  private readonly url: URL;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly timeoutMs: number;
  private readonly random: () => number;

  constructor(
    readonly service: AwsJsonService,
    private readonly options: AwsJsonClientOptions,
  ) {
    this.url = new URL(options.endpoint ?? regionalEndpoint(service.endpointPrefix, options.region));
    if (this.url.protocol !== "https:" && !isLoopbackHost(this.url.hostname)) {
      throw new RangeError(`${service.endpointPrefix} endpoint must be https: ${this.url.origin}`);
    }
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
  }

  /** Calls `operation` with `input`; answers the parsed JSON output or throws an AwsError. */
  async call<T = Record<string, unknown>>(operation: string, input: object): Promise<T> {
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.attempt(operation, body)) as T;
      } catch (error) {
        if (!(error instanceof AwsError) || !error.transient || attempt >= this.maxAttempts) throw error;
        const delay = Math.min(MAX_DELAY_MS, this.random() * this.baseDelayMs * 2 ** (attempt - 1));
        await sleep(delay);
      }
    }
  }

  private async attempt(operation: string, body: string): Promise<unknown> {
    const name = `${this.service.endpointPrefix}:${operation}`;
    const headers = signRequest(
      {
        method: "POST",
        url: this.url,
        headers: {
          "content-type": `application/x-amz-json-${this.service.jsonVersion}`,
          "x-amz-target": `${this.service.targetPrefix}.${operation}`,
        },
        body,
      },
      {
        credentials: this.options.credentials(),
        region: this.options.region,
        service: this.service.signingName,
      },
    );
    // The HTTP client sets Host from the URL itself, the value signed above.
    delete headers.host;
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: RawResponse;
    try {
      response = await post(this.url, headers, body, signal);
    } catch (error) {
      const reason = signal.aborted
        ? `timed out after ${this.timeoutMs} ms`
        : `unreachable${networkErrorCode(error)}`;
      throw new AwsError(`${name} ${reason}`, "NetworkingError", undefined, {
        transient: true,
        cause: error,
      });
    }
    const { text } = response;
    if (response.status >= 200 && response.status < 300) {
      try {
        return text ? JSON.parse(text) : {};
      } catch (error) {
        // A truncated or proxied answer: the same request may well succeed.
        throw new AwsError(
          `${name} answered ${response.status} with a body that is not JSON`,
          "SerializationError",
          response.status,
          {
            transient: true,
            cause: error,
          },
        );
      }
    }
    throw errorFromResponse(name, response, text);
  }
}

/** AWS JSON errors carry the type in `__type` (maybe `namespace#Code`) or X-Amzn-ErrorType (maybe `Code:url`). */
function errorFromResponse(name: string, response: RawResponse, text: string): AwsError {
  let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // Not JSON (a proxy's HTML page): the status alone speaks.
  }
  const rawType = response.header("x-amzn-errortype") ?? String(parsed.__type ?? "");
  const code = rawType.split(":")[0]?.split("#").pop() || `Http${response.status}`;
  const detail =
    typeof (parsed.message ?? parsed.Message) === "string" ? `: ${parsed.message ?? parsed.Message}` : "";
  const transient = RETRYABLE_CODES.has(code) || isTransientStatus(response.status);
  return new AwsError(`${name} failed with ${response.status} ${code}${detail}`, code, response.status, {
    transient,
  });
}

export function regionalEndpoint(prefix: string, region: string): string {
  const suffix = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `https://${prefix}.${region}.${suffix}`;
}

type Env = Record<string, string | undefined>;

/**
 * A client as the Lambda environment describes it: AWS_REGION, the role's credentials, and the SDK's
 * own endpoint overrides (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), which the local tests use.
 */
export function awsClientFromEnv(service: AwsJsonService, env: Env = process.env): AwsJsonClient {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigError("environment variable AWS_REGION is not set");
  return new AwsJsonClient(service, {
    region,
    credentials: credentialsFromEnv(env),
    endpoint: env[`AWS_ENDPOINT_URL_${service.envId}`] ?? env.AWS_ENDPOINT_URL,
  });
}

/** Lambda's credentials: the execution role's, which the runtime puts in the environment. */
export function credentialsFromEnv(env: Env = process.env): () => AwsCredentials {
  return () => {
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new AwsError(
        "no AWS credentials in the environment (AWS_ACCESS_KEY_ID)",
        "CredentialsError",
        undefined,
        {
          transient: false,
        },
      );
    }
    return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN };
  };
}
