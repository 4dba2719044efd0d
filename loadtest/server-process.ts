// A server under test in its own process (Loom or a peer such as llama-server), started and polled until healthy,
// so benchmark clients never share an event loop with the server they measure.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..");

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly process: ChildProcess;
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
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, child, timeoutMs);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return { name, url, process: child };
}

/** Loom's CLI in a child process: `loom serve MODEL --port PORT ...args`. */
export function startLoom(model: string, port: number, args: readonly string[]): Promise<ServerProcess> {
  return startServerProcess(
    "loom",
    process.execPath,
    [join(root, "bin", "loom.mjs"), "serve", model, "--port", String(port), ...args],
    port,
  );
}
