#!/usr/bin/env node
// The `loom` command. Runs the TypeScript sources through tsx, so there is no build step between a checkout and a server.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
try {
  await main(process.argv.slice(2));
} catch (error) {
  console.error(error);
  process.exit(1);
}
