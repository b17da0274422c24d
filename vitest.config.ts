import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Tests start real servers and an embedded DynamoDB engine; two cores cannot run many at once.
    maxWorkers: 2,
    // Local machines run Node 20 while Lambda runs 22; the SDK's reminder of that is noise in tests.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
