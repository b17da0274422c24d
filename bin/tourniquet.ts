import { simulate } from "../local/simulate.js";

// The tourniquet command line. `tourniquet simulate` runs the demo against a running local stack.

const usage = `usage: tourniquet <command>

commands:
  simulate   issue a sandbox key, report it as GitHub would, and print the leak's timeline
             (needs a running local stack: npm start)

environment: TOURNIQUET_URL (default http://127.0.0.1:$PORT or :3000), TOURNIQUET_DATA_DIR (.tourniquet),
             TOURNIQUET_ADMIN_TOKEN (default: the one the local stack wrote to the data dir)`;

const [command] = process.argv.slice(2);
if (command === "simulate") {
  try {
    await simulate({
      url: process.env.TOURNIQUET_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`,
      dataDir: process.env.TOURNIQUET_DATA_DIR ?? ".tourniquet",
      adminToken: process.env.TOURNIQUET_ADMIN_TOKEN,
    });
  } catch (error) {
    process.stderr.write(`tourniquet simulate: ${(error as Error).message}\n`);
    process.exit(1);
  }
} else {
  process.stderr.write(`${usage}\n`);
  process.exit(command === undefined || command === "help" || command === "--help" ? 0 : 2);
}
