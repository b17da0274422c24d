#!/usr/bin/env node
// The package's `bin`: runs the TypeScript command line through tsx, so `npx tourniquet` works
// in the repository after `npm ci`, with no build step.
import { register } from "tsx/esm/api";

register();
await import("./tourniquet.ts");
