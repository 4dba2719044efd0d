// Strict type checks of Kubernetes manifests against the typed models' interfaces (kubernetes-models and its
// @kubernetes-models/* CRD packages), with the TypeScript compiler. Their runtime validate() follows Kubernetes'
// OpenAPI schemas, which leave objects open, so a misspelt field (readinesProbe) passes it; an object literal typed
// as IDeployment fails TypeScript's excess-property check instead.
import { join } from "node:path";
import ts from "typescript";
import { repoRoot } from "./models.js";

/** apiVersion/kind -> [module, interface] of its typed model. */
const MANIFEST_TYPES: Record<string, readonly [string, string]> = {
  "v1/Namespace": ["kubernetes-models/v1/Namespace", "INamespace"],
  "v1/Service": ["kubernetes-models/v1/Service", "IService"],
  "v1/ConfigMap": ["kubernetes-models/v1/ConfigMap", "IConfigMap"],
  "apps/v1/Deployment": ["kubernetes-models/apps/v1/Deployment", "IDeployment"],
  "policy/v1/PodDisruptionBudget": ["kubernetes-models/policy/v1/PodDisruptionBudget", "IPodDisruptionBudget"],
  "autoscaling/v2/HorizontalPodAutoscaler": [
    "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
    "IHorizontalPodAutoscaler",
  ],
  "keda.sh/v1alpha1/ScaledObject": ["@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject", "IScaledObject"],
  "gateway.networking.k8s.io/v1/HTTPRoute": [
    "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute",
    "IHTTPRoute",
  ],
};

/** TypeScript's complaints about `docs` typed as their models' interfaces, each prefixed by its label. */
export function manifestTypeErrors(docs: readonly { label: string; doc: Record<string, unknown> }[]): string[] {
  const file = join(repoRoot, "test", "helpers", "__manifests__.ts");
  const lines: string[] = [];
  const labels: string[] = [];
  docs.forEach(({ label, doc }, i) => {
    const [module, type] = MANIFEST_TYPES[`${doc.apiVersion}/${doc.kind}`] ?? [];
    if (module === undefined) throw new Error(`${label}: no typed model for ${doc.apiVersion} ${doc.kind}`);
    lines.push(`import type { ${type} as T${i} } from "${module}";`);
    labels.push(label);
  });
  docs.forEach(({ doc }, i) => {
    lines.push(`export const m${i}: T${i} = ${JSON.stringify(doc)};`);
  });
  const source = lines.join("\n");
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const sourceFile = program.getSourceFile(file)!;
  return ts.getPreEmitDiagnostics(program, sourceFile).map((d) => {
    const line = d.start === undefined ? -1 : sourceFile.getLineAndCharacterOfPosition(d.start).line;
    const index = line - docs.length;
    return `${labels[index] ?? "imports"}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}
