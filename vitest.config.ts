import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Tests start real servers and an embedded DynamoDB engine; two cores cannot run many at once.
    maxWorkers: 2,
  },
});
