// The package's version, for server metadata; read from package.json so it cannot drift from a release.
import { readFileSync } from "node:fs";

export const LOOM_VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;
