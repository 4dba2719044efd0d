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

export interface LaunchOptions {
  /** Added to this process's environment. */
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
}

/** A started process whose URL may not be known yet (it is still loading, or will never listen). */
export interface Launched extends Omit<LoomProcess, "url"> {
  /** Resolves with the URL the process prints once it listens; rejects if it exits first or takes too long. */
  readonly url: Promise<string>;
}

/** `node bin/loom.mjs ARGS`, started now. */
export function launchLoom(args: readonly string[], { env = {}, timeoutMs = 60_000 }: LaunchOptions = {}): Launched {
  const child = spawn(process.execPath, [join(repoRoot, "bin", "loom.mjs"), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
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
  const url = new Promise<string>((resolve, reject) => {
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
  url.catch(() => {});
  return { child, stderr: () => stderr, exited, url };
}

/** `node bin/loom.mjs ARGS`, resolved once it prints the URL it serves at. */
async function spawnLoom(args: readonly string[], options: LaunchOptions = {}): Promise<LoomProcess> {
  const launched = launchLoom(args, options);
  return { ...launched, url: await launched.url };
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
export async function stop(
  p: Pick<LoomProcess, "child" | "exited">,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<number | null> {
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
