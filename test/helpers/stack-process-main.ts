import { startLocalStack } from "../../local/local-stack.js";
import { startTestEngine } from "./test-engine.js";

// The child half of stack-process.ts: the local stack alone in its own process, on the test engine
// with its data on disk, so a test can kill it like a crashed machine and start it again on the same
// data. It tells its parent its URL once the startup sweep has run.

const dataDir = process.env.TOURNIQUET_DATA_DIR;
if (!dataDir) throw new Error("TOURNIQUET_DATA_DIR is required");
const stack = await startLocalStack({
  port: 0,
  dataDir,
  startDb: startTestEngine,
  // Redeliveries come quickly, as in the in-process test stacks.
  queueBackoffMs: () => 50,
});
await stack.startupSweep;
process.send?.({ url: stack.url });
const stop = () => void stack.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
// The test process gone (crashed, timed out): this stack, in a process group of its own, goes too.
process.once("disconnect", stop);
