// Real `loom serve` and `loom router` processes on loopback ports, for the router and deployment tests. Every
// process started here is killed when the test file's process exits, whatever the test did.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { join } from "node:path";
import { repoRoot, tinyModel } from "./models.js";

export interface LoomProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** The process's stderr so far (JSON log lines), for failure messages. */
  readonly stderr: () => string;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
}

const started = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of started) child.kill("SIGKILL");
});

/** A port nothing listens on now (bound, then released), for a process that must come back on the same port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `node bin/loom.mjs ARGS`, resolved once it prints the URL it serves at. */
export async function spawnLoom(args: readonly string[], timeoutMs = 60_000): Promise<LoomProcess> {
  const child = spawn(process.execPath, [join(repoRoot, "bin", "loom.mjs"), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      started.delete(child);
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`no URL within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const match = / at (http:\/\/\S+)\/v1/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`loom ${args[0]} exited with ${code} before listening: ${stderr}`));
    });
  });
  return { url, child, stderr: () => stderr, exited };
}

/** A Loom replica over models/tiny.gguf: one thread, a small KV pool. */
export function spawnReplica(port = 0, extra: readonly string[] = []): Promise<LoomProcess> {
  return spawnLoom([
    "serve",
    tinyModel(),
    "--port",
    String(port),
    "--threads",
    "1",
    "--kv-tokens",
    "2048",
    "--log-level",
    "warn",
    ...extra,
  ]);
}

/** `loom router` over `replicas`, probing every 0.25 s so tests see state changes quickly. */
export function spawnRouter(replicas: readonly string[], extra: readonly string[] = []): Promise<LoomProcess> {
  return spawnLoom([
    "router",
    ...replicas.flatMap((url) => ["--replica", url]),
    "--port",
    "0",
    "--health-interval",
    "0.25",
    "--log-level",
    "warn",
    ...extra,
  ]);
}

/** Sends `signal` and waits for the exit code. */
export async function stop(p: LoomProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}

export interface ReplicaStatus {
  readonly url: string;
  readonly state: string;
  readonly in_flight: number;
}

/** The router's view of its replicas (GET /router/replicas). */
export async function replicaStates(router: string): Promise<ReplicaStatus[]> {
  const response = await fetch(`${router}/router/replicas`);
  return ((await response.json()) as { replicas: ReplicaStatus[] }).replicas;
}

/** One sample's value from a Prometheus text page, or null when absent. */
export function sampleValue(metrics: string, name: string, labels = ""): number | null {
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (labels === "" ? /^[\s{]/.test(rest) : rest.startsWith(`{${labels}`)) return Number(line.split(/\s+/).at(-1));
  }
  return null;
}
