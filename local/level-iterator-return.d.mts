/** Gives abstract-level's iterators the `return()` dynalite calls to end a query (see the .mjs). */
export function closeLevelIteratorsOnReturn(): void;
