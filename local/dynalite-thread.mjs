// Runs dynalite on its own thread, so the engine's work uses the machine's second core instead of
// competing with the handlers on the main event loop. Plain JavaScript: worker threads do not inherit
// the TypeScript loader that `npm start` runs under.
import { parentPort, workerData } from "node:worker_threads";
import dynalite from "dynalite";

import { closeLevelIteratorsOnReturn } from "./level-iterator-return.mjs";

closeLevelIteratorsOnReturn();

const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, "127.0.0.1", () => {
  parentPort.postMessage({ port: server.address().port });
});
parentPort.on("message", (message) => {
  if (message === "close") server.close(() => parentPort.postMessage({ closed: true }));
});
