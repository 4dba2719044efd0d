// The KServe v2 inference protocol as Triton speaks it, for classic models of the repository. Errors use
// KServe's shape, {"error": "message"}, with the status codes of api/errors.ts (errorResponse picks it by path).
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { HealthState } from "../../ops/health.js";
import { LOOM_VERSION } from "../../ops/version.js";
import type { ClassicServing } from "../../serving/classic/classic-serving.js";
import type { ModelRepository } from "../../serving/classic/model-repository.js";
import { errorResponse } from "../errors.js";
import { attachBinaryInputs, inferResponse, readInferBody } from "./binary.js";

// Elements are checked once, against the model's datatype, when they become a typed array: a zod union per
// element would cost more than the model's run.
export const InferRequestSchema = z.object({
  id: z.string().optional(),
  inputs: z
    .array(
      z.object({
        name: z.string(),
        shape: z.array(z.number().int().min(0)),
        datatype: z.string(),
        data: z.array(z.unknown()).optional(),
        parameters: z.object({ binary_data_size: z.number().int().min(0).optional() }).optional(),
      }),
    )
    .min(1),
  outputs: z
    .array(z.object({ name: z.string(), parameters: z.object({ binary_data: z.boolean().optional() }).optional() }))
    .optional(),
  parameters: z.object({ binary_data_output: z.boolean().optional() }).optional(),
});

function metadata(serving: ClassicServing, versions: readonly number[]) {
  const shape = (dims: readonly number[]) => (serving.config.maxBatchSize > 0 ? [-1, ...dims] : [...dims]);
  return {
    name: serving.name,
    versions: versions.map(String),
    platform: "onnxruntime_onnx",
    inputs: serving.config.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: shape(t.dims) })),
    outputs: serving.config.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: shape(t.dims) })),
  };
}

const modelName = (c: Context) => c.req.param("name") ?? "";
const version = (c: Context) => (c.req.param("version") === undefined ? undefined : Number(c.req.param("version")));

export function kserveRoutes(repository: ModelRepository, health: HealthState): Hono {
  const app = new Hono();
  app.onError((error, c) => errorResponse(c, error));
  app.get("/v2", (c) =>
    c.json({ name: "loom", version: LOOM_VERSION, extensions: ["binary_tensor_data", "model_repository"] }),
  );
  app.get("/v2/health/live", (c) => c.json({ live: true }));
  app.get("/v2/health/ready", (c) =>
    health.notReadyReason() === null ? c.json({ ready: true }) : c.json({ ready: false }, 503),
  );
  for (const prefix of ["/v2/models/:name", "/v2/models/:name/versions/:version"]) {
    app.get(prefix, (c) => {
      const serving = repository.get(modelName(c), version(c));
      return c.json(metadata(serving, repository.versions(serving.name)));
    });
    app.get(`${prefix}/ready`, (c) => {
      repository.get(modelName(c), version(c));
      return c.json({ name: modelName(c), ready: true });
    });
    app.post(`${prefix}/infer`, async (c) => {
      const { header, binary } = await readInferBody(c);
      const request = InferRequestSchema.parse(header);
      const serving = repository.get(modelName(c), version(c));
      const result = await serving.infer({ ...request, inputs: attachBinaryInputs(request.inputs, binary) });
      const allBinary = request.parameters?.binary_data_output === true;
      const binaryOutputs = new Set(
        result.outputs
          .map((o) => o.name)
          .filter(
            (name) => allBinary || request.outputs?.find((o) => o.name === name)?.parameters?.binary_data === true,
          ),
      );
      const head = {
        model_name: serving.name,
        model_version: String(serving.version),
        ...(request.id === undefined ? {} : { id: request.id }),
      };
      return inferResponse(c, head, result.outputs, binaryOutputs);
    });
  }
  app.post("/v2/repository/index", async (c) => c.json(await repository.index()));
  app.post("/v2/repository/models/:name/load", async (c) => {
    await repository.load(modelName(c));
    return c.json({});
  });
  app.post("/v2/repository/models/:name/unload", async (c) => {
    await repository.unload(modelName(c));
    return c.json({});
  });
  return app;
}
