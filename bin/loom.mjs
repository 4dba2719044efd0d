#!/usr/bin/env node
// The `loom` command. Runs the TypeScript sources through tsx, so there is no build step between a checkout and a server.
import { register } from "tsx/esm/api";

register();
// `loom router` is its own process: it loads none of the server's layers.
const { main } = await import(process.argv[2] === "router" ? "../src/router/main.ts" : "../src/main.ts");
try {
  await main(process.argv.slice(2));
} catch (error) {
  console.error(error);
  process.exit(1);
}
