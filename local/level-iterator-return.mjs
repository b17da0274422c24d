import { createRequire } from "node:module";

// dynalite 4 ends a Query's or Scan's stream with `iterator.return()`, which abstract-level 3's
// iterators do not have (theirs is `close()`): every query left its LevelDB iterator open, pinning the
// memtables it read, and the thread grew by gigabytes over a few thousand remediations. Giving the
// iterators a `return` that closes them fixes it; resolved through dynalite's own dependencies, so the
// patch reaches the copy dynalite uses.
const resolveFrom = (from, name) => createRequire(from).resolve(name);
const dynalitePath = resolveFrom(import.meta.url, "dynalite");
const backends = [
  resolveFrom(resolveFrom(dynalitePath, "level"), "classic-level"),
  resolveFrom(dynalitePath, "memory-level"),
];
export function closeLevelIteratorsOnReturn() {
  for (const path of new Set(backends.map((backend) => resolveFrom(backend, "abstract-level")))) {
    const iterators = createRequire(import.meta.url)(path);
    for (const name of ["AbstractIterator", "AbstractKeyIterator", "AbstractValueIterator"]) {
      const proto = iterators[name]?.prototype;
      if (proto && typeof proto.return !== "function") {
        proto.return = function () {
          return this.close();
        };
      }
    }
  }
}
