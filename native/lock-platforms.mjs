// Restores package-lock.json entries for node-llama-cpp's prebuilt platform packages that the registry this
// project is developed against does not mirror (macOS, Windows, riscv64). `npm install` drops optional
// packages it cannot fetch, and `npm ci` then rejects the lock as out of sync with node-llama-cpp's
// optionalDependencies. With an os/cpu entry in the lock, npm skips a foreign platform's package without
// fetching it, and machines that do have it (the public registry) still install it.
// Run after any `npm install` that rewrites the lock: node native/lock-platforms.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const lockPath = fileURLToPath(new URL("../package-lock.json", import.meta.url));
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const owner = lock.packages["node_modules/node-llama-cpp"];
if (!owner) throw new Error("node-llama-cpp is not in package-lock.json");

function platformOf(name) {
  const [system, arch] = name.replace("@node-llama-cpp/", "").split("-");
  const os = { linux: "linux", mac: "darwin", win: "win32" }[system];
  const cpu = { x64: "x64", arm64: "arm64", armv7l: "arm", riscv64: "riscv64" }[arch];
  if (!os || !cpu) throw new Error(`cannot tell the platform of ${name}`);
  return { os, cpu };
}

let added = 0;
for (const [name, version] of Object.entries(owner.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const { os, cpu } = platformOf(name);
  lock.packages[key] = {
    version,
    cpu: [cpu],
    license: "MIT",
    optional: true,
    os: [os],
    engines: { node: ">=20.0.0" },
  };
  added++;
}

const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform package entr${added === 1 ? "y" : "ies"} added`);
