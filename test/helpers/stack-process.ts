import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

// The local stack in a child process (tsx), in a process group of its own: `kill` SIGKILLs the whole
// group (Node and, on DynamoDB Local, its JVM) with no chance to finish anything, as a crash would.

export interface StackProcess {
  url: string;
  /** SIGKILL to the process group; resolves once every process of it is gone. */
  kill(): Promise<void>;
  /** SIGTERM: the stack's own shutdown (drains its queue, closes the engine). */
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL("./stack-process-main.ts", import.meta.url));

export async function startStackProcess(dataDir: string, env: Record<string, string>): Promise<StackProcess> {
  const { GITHUB_PUBLIC_KEYS_URL: _ownKeySet, ...parentEnv } = process.env;
  const child = fork(MAIN, [], {
    execArgv: ["--import", "tsx"],
    env: { ...parentEnv, ...env, TOURNIQUET_DATA_DIR: dataDir },
    detached: true,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (message) => resolve((message as { url: string }).url));
    child.once("exit", (code) => reject(new Error(`the stack process exited (${code}) at start: ${stderr}`)));
  });
  const pid = child.pid as number;
  return {
    url,
    kill: async () => {
      const exit = exited(child);
      process.kill(-pid, "SIGKILL");
      await exit;
      await groupGone(pid);
    },
    stop: async () => {
      const exit = exited(child);
      child.kill("SIGTERM");
      await exit;
      await groupGone(pid);
    },
  };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Waits until no process of the group is left (the JVM dies a moment after Node). */
async function groupGone(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(-pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
