// Runs dynalite on its own thread, so the engine's work uses the machine's second core instead of
// competing with the handlers on the main event loop; or, forked, in a process of its own (a benchmark
// that measures the stack's own memory). Plain JavaScript: worker threads do not inherit the TypeScript
// loader that `npm start` runs under.
import { parentPort, workerData } from "node:worker_threads";
import dynalite from "dynalite";

import { closeLevelIteratorsOnReturn } from "./level-iterator-return.mjs";

closeLevelIteratorsOnReturn();

const path = parentPort ? workerData.path : process.env.DYNALITE_PATH || undefined;
const send = (message) => (parentPort ? parentPort.postMessage(message) : process.send?.(message));
const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, "127.0.0.1", () => {
  send({ port: server.address().port });
});
(parentPort ?? process).on("message", (message) => {
  if (message === "close") server.close(() => send({ closed: true }));
});
