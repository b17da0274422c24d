// Settings every AWS SDK client here shares. Region, credentials and endpoints come from the SDK's own
// chain (AWS_REGION, the execution role, AWS_ENDPOINT_URL_<SERVICE> for local engines and fakes).

/** Attempts per call, the first included (the SDK's standard mode). */
export const AWS_MAX_ATTEMPTS = 3;

/**
 * The SDK waits forever for an answer unless told otherwise; a Lambda must not spend its whole timeout
 * on one stuck call. Keep-alive is the SDK's default.
 */
export const AWS_REQUEST_HANDLER = {
  connectionTimeout: 3_000,
  requestTimeout: 10_000,
  // Without it the SDK only logs a warning when requestTimeout passes, and keeps waiting.
  throwOnRequestTimeout: true,
} as const;

/** Client options for every service: `new DynamoDBClient({ ...awsClientDefaults(), ... })`. */
export const awsClientDefaults = () => ({
  maxAttempts: AWS_MAX_ATTEMPTS,
  requestHandler: { ...AWS_REQUEST_HANDLER },
  // Resolve each command's middleware stack once per client instead of on every call: a 1,000-token
  // report makes 2,000 DynamoDB calls. Nothing here changes a client's middleware after its first call.
  cacheMiddleware: true,
});
