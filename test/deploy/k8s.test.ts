// deploy/k8s: every manifest schema-checked with typed Kubernetes models, and held to what Loom really does: the
// container arguments parse with Loom's own option parsers, probe paths are routes a real server answers, ports and
// selectors line up, the grace period covers the drain, and the autoscalers ask for a metric Loom exposes.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { Ajv } from "ajv";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Service } from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { parseServeArgs } from "../../src/cli.js";
import { loadConfig } from "../../src/config.js";
import { parseRouterArgs } from "../../src/router/cli.js";
import { type RunningRouter, startRouter } from "../../src/router/server.js";
import { routerOptions } from "../../src/router/cli.js";
import { jsonLogger } from "../../src/ops/logger.js";
import { manifestTypeErrors } from "../helpers/manifest-types.js";
import { repoRoot } from "../helpers/models.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const k8sDir = join(repoRoot, "deploy", "k8s");

// InferencePool (inference.networking.k8s.io/v1) has no typed model package; this is its v1 API reference's
// InferencePoolSpec, closed to unknown fields so a misspelt one fails.
const inferencePoolSchema = {
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  properties: {
    apiVersion: { const: "inference.networking.k8s.io/v1" },
    kind: { const: "InferencePool" },
    metadata: { type: "object", required: ["name"] },
    spec: {
      type: "object",
      additionalProperties: false,
      required: ["selector", "targetPorts", "endpointPickerRef"],
      properties: {
        selector: {
          type: "object",
          additionalProperties: false,
          required: ["matchLabels"],
          properties: { matchLabels: { type: "object", additionalProperties: { type: "string" }, minProperties: 1 } },
        },
        targetPorts: {
          type: "array",
          minItems: 1,
          maxItems: 8,
          items: {
            type: "object",
            additionalProperties: false,
            required: ["number"],
            properties: { number: { type: "integer", minimum: 1, maximum: 65535 } },
          },
        },
        appProtocol: { enum: ["http", "kubernetes.io/h2c"] },
        endpointPickerRef: {
          type: "object",
          additionalProperties: false,
          required: ["name"],
          properties: {
            group: { type: "string" },
            kind: { type: "string" },
            name: { type: "string", minLength: 1 },
            port: {
              type: "object",
              required: ["number"],
              properties: { number: { type: "integer", minimum: 1, maximum: 65535 } },
            },
            failureMode: { enum: ["FailOpen", "FailClose"] },
          },
        },
      },
    },
  },
};
const validateInferencePool = new Ajv({ allErrors: true }).compile(inferencePoolSchema);

type Model = { validate(): void };
const MODELS: Record<string, (doc: Record<string, unknown>) => Model | null> = {
  "v1/Namespace": (doc) => new Namespace(doc as never),
  "v1/Service": (doc) => new Service(doc as never),
  "v1/ConfigMap": (doc) => new ConfigMap(doc as never),
  "apps/v1/Deployment": (doc) => new Deployment(doc as never),
  "policy/v1/PodDisruptionBudget": (doc) => new PodDisruptionBudget(doc as never),
  "autoscaling/v2/HorizontalPodAutoscaler": (doc) => new HorizontalPodAutoscaler(doc as never),
  "keda.sh/v1alpha1/ScaledObject": (doc) => new ScaledObject(doc as never),
  "gateway.networking.k8s.io/v1/HTTPRoute": (doc) => new HTTPRoute(doc as never),
  "inference.networking.k8s.io/v1/InferencePool": (doc) => {
    if (!validateInferencePool(doc)) throw new Error(JSON.stringify(validateInferencePool.errors));
    return null;
  },
};

interface Manifest {
  readonly file: string;
  readonly doc: Record<string, any>;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? yamlFiles(join(dir, entry.name))
      : entry.name.endsWith(".yaml")
        ? [join(dir, entry.name)]
        : [],
  );
}

const manifests: Manifest[] = yamlFiles(k8sDir)
  .filter((path) => !/kustomization\.yaml$|prometheus-adapter-values\.yaml$/.test(path))
  .flatMap((path) =>
    parseAllDocuments(readFileSync(path, "utf8")).map((d) => ({ file: relative(k8sDir, path), doc: d.toJS() })),
  );

function find(kind: string, name: string): Record<string, any> {
  const found = manifests.find((m) => m.doc.kind === kind && m.doc.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/k8s`);
  return found.doc;
}

const replicas = () => find("Deployment", "loom");
const router = () => find("Deployment", "loom-router");
const podLabels = (deployment: Record<string, any>) =>
  deployment.spec.template.metadata.labels as Record<string, string>;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe("deploy/k8s manifests", () => {
  it("each one validates against its typed Kubernetes model", () => {
    expect(manifests.length).toBeGreaterThanOrEqual(11);
    for (const { file, doc } of manifests) {
      const make = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(make, `${file}: no model for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      const model = make!(doc);
      if (model === null) continue;
      expect(() => model.validate(), file).not.toThrow();
    }
  });

  it("each one type-checks as its model's interface, so no field is misspelt or unknown", () => {
    const typed = manifests.filter((m) => m.doc.kind !== "InferencePool");
    expect(manifestTypeErrors(typed.map((m) => ({ label: `${m.file} ${m.doc.kind}`, doc: m.doc })))).toEqual([]);
    const misspelt = structuredClone(replicas());
    misspelt.spec.template.spec.containers[0].readinesProbe = {};
    expect(manifestTypeErrors([{ label: "misspelt", doc: misspelt }]).join("\n")).toMatch(/^misspelt: .*readinesProbe/);
  });

  it("the kustomization lists files that exist, and every manifest outside the optional folders", () => {
    const kustomization = parseYaml(readFileSync(join(k8sDir, "kustomization.yaml"), "utf8"));
    const top = readdirSync(k8sDir).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(top.sort());
  });

  it("container arguments parse with Loom's own option parsers, on the ports the probes and Services use", () => {
    const container = replicas().spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    const args = container.args.map((a: string) => a.replace(/\$\((\w+)\)/g, (_: string, name: string) => env[name]));
    const config = loadConfig(parseServeArgs(args));
    const http = container.ports.find((p: { name: string }) => p.name === "http");
    expect(config.port).toBe(http.containerPort);
    for (const name of ["loom", "loom-replicas"]) {
      const service = find("Service", name);
      expect(matches(service.spec.selector, podLabels(replicas()))).toBe(true);
      expect(service.spec.ports[0].targetPort).toBe("http");
    }
    expect(find("Service", "loom-replicas").spec.clusterIP).toBe("None");

    const routerContainer = router().spec.template.spec.containers[0];
    const options = parseRouterArgs(routerContainer.args);
    expect(options.port).toBe(routerContainer.ports[0].containerPort);
    const [dnsName, dnsPort] = options.replicasDns!.split(":");
    expect(dnsName).toBe("loom-replicas.loom.svc.cluster.local");
    expect(Number(dnsPort)).toBe(find("Service", "loom-replicas").spec.ports[0].port);
    expect(matches(find("Service", "loom-router").spec.selector, podLabels(router()))).toBe(true);
    expect(matches(find("Service", "loom-router").spec.selector, podLabels(replicas()))).toBe(false);
  });

  it("gives the drain its time: terminationGracePeriodSeconds covers preStop and --shutdown-grace", () => {
    for (const deployment of [replicas(), router()]) {
      const spec = deployment.spec.template.spec;
      const container = spec.containers[0];
      const preStop = Number(container.lifecycle.preStop.exec.command.at(-1));
      const grace = Number(container.args[container.args.indexOf("--shutdown-grace") + 1]);
      expect(grace).toBeGreaterThan(0);
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + grace);
      expect(container.resources.requests.cpu).toBeDefined();
      expect(container.resources.limits.memory).toBeDefined();
    }
  });

  it("points the PDB, the autoscalers and the InferencePool at the replica pods", () => {
    const labels = podLabels(replicas());
    expect(matches(find("PodDisruptionBudget", "loom").spec.selector.matchLabels, labels)).toBe(true);
    expect(find("HorizontalPodAutoscaler", "loom").spec.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "loom",
    });
    expect(find("ScaledObject", "loom").spec.scaleTargetRef.name).toBe("loom");
    const pool = find("InferencePool", "loom");
    expect(pool.spec.selector.matchLabels).toEqual(labels);
    expect(pool.spec.targetPorts[0].number).toBe(replicas().spec.template.spec.containers[0].ports[0].containerPort);
    const route = find("HTTPRoute", "loom");
    expect(route.spec.rules[0].backendRefs[0]).toMatchObject({ kind: "InferencePool", name: "loom" });
  });

  it("scales on the name the Prometheus adapter gives vllm:num_requests_waiting, and KEDA on the same series", () => {
    const values = parseYaml(readFileSync(join(k8sDir, "autoscaling", "prometheus-adapter-values.yaml"), "utf8"));
    const rule = values.rules.custom[0];
    expect(rule.seriesQuery).toMatch(/^vllm:num_requests_waiting\{/);
    const hpaMetric = find("HorizontalPodAutoscaler", "loom").spec.metrics[0].pods;
    expect(hpaMetric.metric.name).toBe(rule.name.as);
    expect(new RegExp(rule.name.matches).test("vllm:num_requests_waiting")).toBe(true);
    const trigger = find("ScaledObject", "loom").spec.triggers[0];
    expect(trigger.metadata.query).toContain("vllm:num_requests_waiting");
    expect(trigger.metadata.threshold).toBe(hpaMetric.target.averageValue);
  });
});

describe("probe paths against real processes", () => {
  let server: TestServer;
  let running: RunningRouter;

  beforeAll(async () => {
    server = await startTestServer();
    running = await startRouter(routerOptions({ replicas: [server.url], port: 0 }), {
      logger: jsonLogger("silent"),
      processMetrics: false,
    });
  });

  afterAll(async () => {
    await running.close(0);
    await server.close(0);
  });

  it("every probe of every Deployment is a route its process answers 200 when healthy", async () => {
    for (const [deployment, url] of [
      [replicas(), server.url],
      [router(), running.url],
    ] as const) {
      const container = deployment.spec.template.spec.containers[0];
      const probes = ["startupProbe", "livenessProbe", "readinessProbe"].filter((p) => container[p]);
      expect(probes.length).toBeGreaterThanOrEqual(2);
      for (const probe of probes) {
        expect(container[probe].httpGet.port).toBe("http");
        const response = await fetch(`${url}${container[probe].httpGet.path}`);
        expect(response.status, `${deployment.metadata.name} ${probe}`).toBe(200);
      }
    }
    expect(replicas().spec.template.spec.containers[0].startupProbe.httpGet.path).toBe("/health/startup");
    expect(replicas().spec.template.spec.containers[0].livenessProbe.httpGet.path).toBe("/health/live");
    expect(replicas().spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe("/health/ready");
  });

  it("the autoscaling series is one a Loom replica exposes on the path Prometheus is told to scrape", async () => {
    const annotations = replicas().spec.template.metadata.annotations;
    const text = await (await fetch(`${server.url}${annotations["prometheus.io/path"]}`)).text();
    expect(text).toMatch(/^vllm:num_requests_waiting\{model_name="tiny"\} 0$/m);
    expect(Number(annotations["prometheus.io/port"])).toBe(
      replicas().spec.template.spec.containers[0].ports[0].containerPort,
    );
  });
});
