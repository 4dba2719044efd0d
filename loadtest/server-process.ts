// A server under test in its own process (Loom or a peer such as llama-server), started and polled until healthy,
// so benchmark clients never share an event loop with the server they measure.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..");

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly process: ChildProcess;
  /** The last 16 KB the server wrote to stderr (Loom's JSON log lines, llama-server's log). */
  stderrTail(): string;
}

let clockTicks: number | null = null;

/** CPU seconds (user + system) the server process has used so far, from /proc (Linux only). */
export function cpuSeconds(server: ServerProcess): number {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
  const stat = readFileSync(`/proc/${server.process.pid}/stat`, "utf8");
  // Fields after the parenthesised command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Binds every thread of the process (and those it starts later) to `cores`, a taskset list such as "1-3". */
export function pinProcess(pid: number, cores: string): void {
  execFileSync("taskset", ["-a", "-p", "-c", cores, String(pid)], { stdio: "ignore" });
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited with code ${child.exitCode}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not become healthy within ${timeoutMs} ms`);
}

/** Starts `command args` listening on `port`; killed with SIGTERM when this process exits. */
export async function startServerProcess(
  name: string,
  command: string,
  args: readonly string[],
  port: number,
  timeoutMs = 120_000,
): Promise<ServerProcess> {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], cwd: root });
  process.on("exit", () => child.kill("SIGTERM"));
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-16_000);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, child, timeoutMs);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${stderr.slice(-4000)}`);
  }
  return { name, url, process: child, stderrTail: () => stderr };
}

/**
 * Loom's CLI in a child process: `loom serve MODEL --port PORT ...args`, from this checkout or from `checkout` (the
 * root of another one, with its own node_modules and addon: a build before a change, for a before/after run).
 */
export function startLoom(
  model: string,
  port: number,
  args: readonly string[],
  checkout: string = root,
): Promise<ServerProcess> {
  return startServerProcess(
    "loom",
    process.execPath,
    [join(checkout, "bin", "loom.mjs"), "serve", model, "--port", String(port), ...args],
    port,
  );
}

/** What Loom and its llama-server peer are given alike, so the two serve the same model with the same resources. */
export interface PeerShape {
  readonly threads: number;
  /** Sequences decoded together: llama-server's -np, Loom's --max-running. */
  readonly parallel: number;
  /** Total KV context: llama-server's -c (split evenly among its slots), Loom's --kv-tokens. */
  readonly contextTokens: number;
  /** The model name clients ask for (--alias). */
  readonly alias: string;
}

/** llama.cpp's llama-server (`bin`, see build-llama-server.sh) on `port`, with /metrics, plus `extra` flags. */
export function startLlamaServer(
  bin: string,
  model: string,
  port: number,
  shape: PeerShape,
  extra: readonly string[] = [],
): Promise<ServerProcess> {
  const { threads, parallel, contextTokens, alias } = shape;
  const args = ["-m", model, "--host", "127.0.0.1", "--port", String(port), "-t", String(threads)];
  args.push("-tb", String(threads), "-np", String(parallel), "-c", String(contextTokens), "--alias", alias);
  return startServerProcess("llama-server", bin, [...args, "--metrics", "--no-webui", ...extra], port);
}
