// A real Prometheus (Debian's package; .ci/run installs it) scraping a real Loom replica with the shipped scrape
// config, its targets pointed at loopback: the autoscaling queries of deploy/k8s return the replica's waiting
// requests, and every query of the Grafana dashboard is valid PromQL.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { repoRoot } from "../helpers/models.js";
import { freePort } from "../helpers/processes.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

type Json = Record<string, any>;
const readYaml = (path: string): Json => parseYaml(readFileSync(join(repoRoot, path), "utf8"));

function prometheusBinary(): string {
  try {
    execFileSync("prometheus", ["--version"], { stdio: "ignore" });
    return "prometheus";
  } catch {
    throw new Error("prometheus is not installed: apt-get install -y prometheus (.ci/run does it)");
  }
}

let server: TestServer;
let prometheus: ChildProcess;
let api: string;
const streams: AbortController[] = [];

/** The shipped scrape config, its service discovery replaced by the replica's loopback address and the labels
 * Kubernetes' pod discovery would attach (namespace, pod), which the autoscaling queries select on. */
function scrapeConfig(replica: string): string {
  const config = readYaml("deploy/prometheus/prometheus.yml");
  config.global.scrape_interval = "1s";
  config.scrape_configs = config.scrape_configs
    .filter((job: Json) => job.job_name === "loom")
    .map((job: Json) => ({
      job_name: job.job_name,
      static_configs: [{ targets: [new URL(replica).host], labels: { namespace: "loom", pod: "loom-0" } }],
    }));
  return stringify(config);
}

async function query(promql: string): Promise<{ status: string; data?: { result: { value: [number, string] }[] } }> {
  const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
  return (await response.json()) as never;
}

beforeAll(async () => {
  const binary = prometheusBinary();
  server = await startTestServer({ maxRunning: 1 });
  const dir = mkdtempSync(join(tmpdir(), "loom-prometheus-"));
  writeFileSync(join(dir, "prometheus.yml"), scrapeConfig(server.url));
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    binary,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 30_000;
  while (
    !(await fetch(`${api}/-/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error("prometheus did not become ready within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});

afterAll(async () => {
  for (const stream of streams) stream.abort();
  prometheus?.kill("SIGKILL");
  await server?.close(0);
});

it("answers the autoscalers' queries with the replica's waiting requests", async () => {
  // The requests start once Prometheus has scraped the replica: a first scrape seconds after start (its scrape loop's
  // offset) would otherwise find the first request, a few seconds of the tiny model, already done.
  const scraped = Date.now() + 30_000;
  while ((await query('up{job="loom"}')).data?.result[0]?.value[1] !== "1") {
    if (Date.now() > scraped) throw new Error("prometheus did not scrape the replica within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // One running slot and three requests as long as the context allows: two wait.
  for (let i = 0; i < 3; i++) {
    const controller = new AbortController();
    streams.push(controller);
    fetch(`${server.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: server.model,
        prompt: "a long story",
        max_tokens: 4000,
        ignore_eos: true,
        stream: true,
      }),
      signal: controller.signal,
    }).catch(() => undefined);
  }
  const keda = readYaml("deploy/k8s/autoscaling/keda-scaledobject.yaml").spec.triggers[0].metadata.query as string;
  const rule = readYaml("deploy/k8s/autoscaling/prometheus-adapter-values.yaml").rules.custom[0];
  // The adapter's query as it renders it for the HPA's pods of namespace loom.
  const adapter = (rule.metricsQuery as string)
    .replace("<<.Series>>", /^[^{]+/.exec(rule.seriesQuery)![0])
    .replace("<<.LabelMatchers>>", 'namespace="loom",pod=~"loom-0"')
    .replace("<<.GroupBy>>", "pod");
  let values: string[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const answers = await Promise.all([keda, adapter].map(query));
    values = answers.map((a) => a.data?.result[0]?.value[1] ?? "none");
    if (values.every((v) => v === "2")) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(values).toEqual(["2", "2"]);
});

it("evaluates every query of the Grafana dashboard without error", async () => {
  const dashboard = JSON.parse(readFileSync(join(repoRoot, "deploy/grafana/dashboards/loom.json"), "utf8"));
  const exprs: string[] = dashboard.panels.flatMap((p: Json) => (p.targets ?? []).map((t: Json) => t.expr));
  expect(exprs.length).toBeGreaterThan(20);
  for (const expr of exprs) {
    const promql = expr
      .replaceAll("$__rate_interval", "1m")
      .replaceAll("$model_name", ".*")
      .replaceAll("$variant", ".*");
    expect((await query(promql)).status, expr).toBe("success");
  }
  const running = await query('sum(vllm:num_requests_running{model_name=~".*",variant=~".*"})');
  expect(running.data?.result[0]?.value[1]).toBe("1");
});
