// `loom serve hf:...` and URLs: downloads through node-llama-cpp's resolver from a local stand-in for the Hugging
// Face hub (HF_ENDPOINT on loopback, serving models/tiny.gguf with ranged responses), a download resumed after the
// process was killed, a size check that replaces a damaged copy, and reuse of the cache offline.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveModelSource, uriModelName } from "../../src/compose/model-source.js";
import { jsonLogger } from "../../src/ops/logger.js";
import { tinyModel } from "../helpers/models.js";
import { type Launched, launchLoom, stop } from "../helpers/processes.js";

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

interface Hub {
  /** The same server as `url` under another host name: node-llama-cpp takes any URL on HF_ENDPOINT's host for a
   * repository URL, so plain URLs use `url` and hf: URIs this. */
  readonly hfEndpoint: string;
  readonly url: string;
  /** "bytes=START-END" of every ranged GET of the model file, or "-" for a plain GET. */
  readonly ranges: string[];
  /** Ranged requests starting at or past this byte get headers and then nothing, as from a stalled mirror. */
  stallFrom: number;
  /** Ranged GETs answered in full. */
  finished: number;
  close(): Promise<void>;
}

async function startHub(data: Buffer): Promise<Hub> {
  const hub = { ranges: [] as string[], stallFrom: Number.POSITIVE_INFINITY, finished: 0 };
  const server: Server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (url.startsWith("/v2/owner/tiny-GGUF/manifests/")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ggufFile: { rfilename: "tiny-Q8_0.gguf", size: data.length } }));
      return;
    }
    if (!/^\/(owner\/tiny-GGUF\/resolve\/main\/tiny(-Q8_0)?\.gguf|files\/tiny\.gguf)(\?|$)/.test(url)) {
      res.writeHead(404).end();
      return;
    }
    const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? "");
    const start = range ? Number(range[1]) : 0;
    const end = range?.[2] ? Number(range[2]) + 1 : data.length;
    if (req.method === "GET") hub.ranges.push(range ? `bytes=${start}-${end - 1}` : "-");
    res.writeHead(range ? 206 : 200, {
      "accept-ranges": "bytes",
      "content-type": "application/octet-stream",
      "content-length": end - start,
      ...(range ? { "content-range": `bytes ${start}-${end - 1}/${data.length}` } : {}),
    });
    if (req.method === "HEAD") return void res.end();
    if (range && start >= hub.stallFrom) return;
    res.end(data.subarray(start, end), () => {
      if (range) hub.finished += 1;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return Object.assign(hub, {
    hfEndpoint: `http://localhost:${port}`,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

let data: Buffer;
let hub: Hub;
const processes: Launched[] = [];

beforeAll(async () => {
  data = readFileSync(tinyModel());
  hub = await startHub(data);
});

afterAll(async () => {
  delete process.env.HF_ENDPOINT;
  await Promise.all(processes.map((p) => stop(p, "SIGKILL")));
  await hub.close();
});

const cacheDir = () => mkdtempSync(join(tmpdir(), "loom-models-"));

describe("resolveModelSource", () => {
  it("downloads hf:OWNER/REPO/FILE.gguf and URLs into the cache, replaces a damaged copy, and reuses it", async () => {
    const dir = cacheDir();
    process.env.HF_ENDPOINT = hub.hfEndpoint;
    const options = { cacheDir: dir, offline: false, logger: jsonLogger("silent") };
    const file = await resolveModelSource("hf:owner/tiny-GGUF/tiny.gguf", options);
    expect(file.name).toBe("owner/tiny-GGUF/tiny");
    expect(sha256(readFileSync(file.path))).toBe(sha256(data));
    const url = await resolveModelSource(`${hub.url}/files/tiny.gguf`, options);
    expect(url.name).toBe("tiny");
    expect(url.path).not.toBe(file.path);
    expect(sha256(readFileSync(url.path))).toBe(sha256(data));
    // A copy cut short (a full disk, a copy by hand) no longer matches the remote size: downloaded again.
    truncateSync(file.path, 1000);
    const repaired = await resolveModelSource("hf:owner/tiny-GGUF/tiny.gguf", options);
    expect(repaired.path).toBe(file.path);
    expect(sha256(readFileSync(repaired.path))).toBe(sha256(data));
    const offline = { ...options, offline: true };
    expect((await resolveModelSource("hf:owner/tiny-GGUF/tiny.gguf", offline)).path).toBe(file.path);
    await expect(resolveModelSource("hf:owner/other-GGUF:Q4_K_M", offline)).rejects.toThrow(
      /not in the model cache .* --offline/,
    );
    expect(await resolveModelSource("models/x.gguf", options)).toEqual({ path: "models/x.gguf", name: "x" });
    expect(uriModelName("hf:owner/tiny-GGUF:Q8_0")).toBe("owner/tiny-GGUF:Q8_0");
  });
});

describe("loom serve hf:OWNER/REPO:QUANT", () => {
  it("resumes a download its killed predecessor began, then serves the cached model offline", async () => {
    const dir = cacheDir();
    const env = { HF_ENDPOINT: hub.hfEndpoint };
    const serve = (...extra: string[]) =>
      launchLoom(
        [
          "serve",
          "hf:owner/tiny-GGUF:Q8_0",
          "--model-cache",
          dir,
          "--port",
          "0",
          "--threads",
          "1",
          "--kv-tokens",
          "1024",
        ].concat(extra),
        { env },
      );
    // Run 1: the back of the file never comes; the process is killed once the front is written.
    hub.stallFrom = 8 * 1024 * 1024;
    hub.ranges.length = 0;
    const first = serve();
    const deadline = Date.now() + 30_000;
    while (!(hub.finished >= 2 && readdirSync(dir).some((f) => f.endsWith(".ipull"))) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(readdirSync(dir).filter((f) => f.endsWith(".ipull"))).toHaveLength(1);
    await stop(first, "SIGKILL");

    // Run 2: the mirror answers everything; only the missing part is fetched.
    hub.stallFrom = Number.POSITIVE_INFINITY;
    hub.ranges.length = 0;
    const second = serve();
    processes.push(second);
    const secondUrl = await second.url;
    const ranged = hub.ranges.filter((r) => r !== "-");
    expect(ranged.length).toBeGreaterThan(0);
    expect(ranged.some((r) => r.startsWith("bytes=0-"))).toBe(false);
    const fetched = ranged.reduce((sum, r) => {
      const [start, end] = r.slice(6).split("-").map(Number);
      return sum + end! - start! + 1;
    }, 0);
    expect(fetched).toBeLessThan(data.length);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(sha256(readFileSync(join(dir, files[0]!)))).toBe(sha256(data));
    expect(second.stderr()).toContain('"event":"model_download"');
    const models = (await (await fetch(`${secondUrl}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain("owner/tiny-GGUF:Q8_0");
    await stop(second);

    // Run 3: the hub is gone; --offline serves the cached file without asking it.
    await hub.close();
    const third = serve("--offline");
    processes.push(third);
    expect((await fetch(`${await third.url}/health/ready`)).status).toBe(200);
    expect(existsSync(join(dir, files[0]!))).toBe(true);
    // Without --offline, an unreachable hub only costs the size check: the cached copy is served, with a warning.
    const events: string[] = [];
    const logger = { log: (_level: string, event: string) => void events.push(event) };
    const unverified = await resolveModelSource("hf:owner/tiny-GGUF:Q8_0", { cacheDir: dir, offline: false, logger });
    expect(unverified.path).toBe(join(dir, files[0]!));
    expect(events).toEqual(["model_unverified"]);
  });
});
