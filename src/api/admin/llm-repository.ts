// The LLM repository API, in the shapes of Triton's repository extension (/v2/repository/...), which the ONNX
// models keep: GET /loom/v1/repository lists every version (READY, LOADING, DRAINING or UNAVAILABLE with the reason)
// and the memory budget; POST /loom/v1/repository/models/{name}/load loads a version (the newest without one) or
// reloads a loaded one, and .../unload drains and frees one version or all of them (admin key for both).
import { Hono } from "hono";
import { z } from "zod";
import type { LlmRepository } from "../../serving/llm/llm-repository.js";
import { readBody, parseJson } from "../body.js";

/** The optional body of load and unload: which version (the newest, or all of them, without one). */
export const VersionBody = z.object({ version: z.coerce.number().int().min(1).optional() }).strict();

async function versionOf(body: Uint8Array): Promise<number | undefined> {
  return body.length === 0 ? undefined : VersionBody.parse(parseJson(body)).version;
}

export function llmRepositoryRoutes(repository: LlmRepository): Hono {
  const { budget } = repository;
  return new Hono()
    .get("/loom/v1/repository", async (c) =>
      c.json({
        object: "list",
        data: (await repository.index()).map((e) => ({
          name: e.name,
          version: e.version,
          state: e.state,
          reason: e.reason,
          memory_bytes: e.memoryBytes,
        })),
        memory: { budget_bytes: budget.limitBytes, used_bytes: budget.usedBytes },
      }),
    )
    .post("/loom/v1/repository/models/:name/load", async (c) => {
      const model = await repository.load(c.req.param("name"), await versionOf(await readBody(c)));
      return c.json({ model, state: "READY" });
    })
    .post("/loom/v1/repository/models/:name/unload", async (c) => {
      const unloaded = await repository.unload(c.req.param("name"), await versionOf(await readBody(c)));
      return c.json({ unloaded });
    });
}
