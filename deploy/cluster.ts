// `npm run cluster`: docker-compose.yml's topology as local processes, for development and tests without
// containers: redis-server (when installed), N Loom replicas, a batch worker (with Redis), `loom router` in front,
// and Prometheus with the shipped scrape config pointed at them (when installed). Ctrl-C stops everything.
//   npm run cluster -- --replicas 3 --model path/to.gguf --policy prefix --port 8000
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml, stringify } from "yaml";
import { DEFAULT_MODEL_PATH } from "../models/ensure-default.js";

const root = join(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    replicas: { type: "string", default: "2" },
    model: { type: "string", default: DEFAULT_MODEL_PATH },
    policy: { type: "string", default: "prefix" },
    port: { type: "string", default: "8000" },
    "prometheus-port": { type: "string", default: "9090" },
    threads: { type: "string", default: "1" },
  },
});
const children: { name: string; child: ChildProcess }[] = [];
// Stopped last, as docker compose does with depends_on: the Loom processes first, then what they depend on, so no
// replica or worker spends its shutdown reconnecting to a Redis that left before it.
const INFRASTRUCTURE = new Set(["redis", "prometheus"]);
let stopping = false;
const state = mkdtempSync(join(tmpdir(), "loom-cluster-"));

function installed(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `command args`; resolves once `ready` matches its output (or at once without one). */
function start(name: string, command: string, args: string[], ready?: RegExp, env: Record<string, string> = {}) {
  // Redis and Prometheus get process groups of their own: Ctrl-C reaches the whole foreground group at once, and
  // they must outlive the Loom processes' drain (stopAll stops them after).
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: INFRASTRUCTURE.has(name),
  });
  children.push({ name, child });
  let output = "";
  return new Promise<string>((resolve, reject) => {
    const read = (data: Buffer) => {
      output = (output + data.toString()).slice(-10_000);
      const match = ready?.exec(output);
      if (match) resolve(match[1] ?? "");
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", (code) => {
      // After startup, an exit is only reported: the rest of the cluster keeps running.
      if (!stopping) console.warn(`cluster: ${name} exited with ${code}: ${output.trim().split("\n").at(-1)}`);
      reject(new Error(`${name} exited with ${code}:\n${output}`));
    });
    if (!ready) resolve("");
  });
}

const loomBin = join(root, "bin", "loom.mjs");

async function main(): Promise<void> {
  let redisUrl: string | null = null;
  if (installed("redis-server")) {
    const port = await freePort();
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", state, "--save", ""];
    await start(
      "redis",
      "redis-server",
      [...args, "--appendonly", "yes", "--maxmemory-policy", "noeviction"],
      /(Ready to accept connections)/,
    );
    redisUrl = `redis://127.0.0.1:${port}`;
  } else console.warn("cluster: redis-server is not installed; replicas keep jobs in memory and no worker starts");
  const env: Record<string, string> = redisUrl ? { LOOM_REDIS_URL: redisUrl } : {};
  const serve = [loomBin, "serve", values.model!, "--port", "0", "--threads", values.threads!, "--log-level", "warn"];
  const replicas = await Promise.all(
    Array.from({ length: Number(values.replicas) }, (_, i) =>
      start(`loom-${i}`, process.execPath, serve, / at (http:\/\/\S+)\/v1/, env),
    ),
  );
  if (redisUrl) {
    // A worker that cannot start (a checkout without `loom worker`) is reported and leaves the rest running.
    start("worker", process.execPath, [loomBin, "worker", values.model!, "--redis", redisUrl]).catch(() => {});
  }
  const routerArgs = ["router", ...replicas.flatMap((url) => ["--replica", url]), "--policy", values.policy!];
  const router = await start(
    "router",
    process.execPath,
    [loomBin, ...routerArgs, "--port", values.port!, "--log-level", "warn"],
    / at (http:\/\/\S+)\/v1/,
  );
  let prometheus = "not installed";
  if (installed("prometheus")) {
    const config = parseYaml(readFileSync(join(root, "deploy", "prometheus", "prometheus.yml"), "utf8"));
    const hosts = (urls: string[]) => urls.map((url) => new URL(url).host);
    config.scrape_configs = [
      { job_name: "loom", static_configs: [{ targets: hosts(replicas) }] },
      { job_name: "loom-router", static_configs: [{ targets: hosts([router]) }] },
    ];
    writeFileSync(join(state, "prometheus.yml"), stringify(config));
    const listen = `127.0.0.1:${values["prometheus-port"]}`;
    await start(
      "prometheus",
      "prometheus",
      [
        `--config.file=${join(state, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(state, "prometheus")}`,
        `--web.listen-address=${listen}`,
      ],
      /(Server is ready to receive web requests)/,
    );
    prometheus = `http://${listen}`;
  }
  console.log(
    [
      `cluster: ${replicas.length} replica(s): ${replicas.join(" ")}`,
      `cluster: redis ${redisUrl ?? "not installed"}, prometheus ${prometheus}`,
      `cluster: ready at ${router}/v1`,
    ].join("\n"),
  );
}

/** SIGTERM to each of `names`' processes; resolves when all have exited. */
function stop(names: (name: string) => boolean): Promise<unknown> {
  const stopped = children.filter(({ name }) => names(name));
  for (const { child } of stopped) child.kill("SIGTERM");
  return Promise.all(
    stopped.map(({ child }) =>
      child.exitCode === null ? new Promise((resolve) => child.once("exit", resolve)) : null,
    ),
  );
}

function stopAll(code: number): void {
  stopping = true;
  stop((name) => !INFRASTRUCTURE.has(name))
    .then(() => stop((name) => INFRASTRUCTURE.has(name)))
    .then(() => {
      rmSync(state, { recursive: true, force: true });
      process.exit(code);
    });
}

process.once("SIGINT", () => stopAll(0));
process.once("SIGTERM", () => stopAll(0));
main().catch((error: Error) => {
  console.error(`cluster: ${error.message}`);
  stopAll(1);
});
