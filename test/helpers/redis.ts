// A real redis-server for tests: its own free loopback port and temporary directory, AOF on with an fsync per write
// (so a restart mid-test loses nothing), stopped and removed at the end. Fails loudly when redis-server is missing.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestRedis {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM: it writes its AOF and exits); the data directory stays for restart(). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory, with what its AOF holds. */
  restart(): Promise<void>;
  /** Stops it and deletes its directory. */
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function launch(port: number, dir: string): Promise<ChildProcess> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
  args.push("--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--loglevel", "warning");
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  return new Promise((resolve, reject) => {
    child.once("error", (error) =>
      reject(new Error(`cannot start redis-server (${error.message}): install it, e.g. apt-get install redis-server`)),
    );
    child.once("exit", (code) => reject(new Error(`redis-server exited with code ${code}: ${output}`)));
    const deadline = Date.now() + 10_000;
    const poll = () => {
      const socket = createConnection({ port, host: "127.0.0.1" });
      socket.once("connect", () => {
        socket.destroy();
        resolve(child);
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server did not listen on ${port}: ${output}`));
        else setTimeout(poll, 25);
      });
    };
    poll();
  });
}

function stopProcess(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners("exit");
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** A fresh redis-server; call close() when done. */
export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), "loom-redis-"));
  const port = await freePort();
  let child: ChildProcess | null = await launch(port, dir);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await stopProcess(child);
      child = null;
    },
    async restart() {
      await stopProcess(child);
      child = await launch(port, dir);
    },
    async close() {
      await stopProcess(child);
      child = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
