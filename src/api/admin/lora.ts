// POST /v1/load_lora_adapter and /v1/unload_lora_adapter, with vLLM's request shapes and plain-text answers.
import { Hono } from "hono";
import type { ModelRegistry } from "../../serving/llm/registry.js";
import { readJson } from "../body.js";
import { LoadLoraRequest, UnloadLoraRequest } from "../openai/schemas.js";

export function loraRoutes(registry: ModelRegistry): Hono {
  return new Hono()
    .post("/v1/load_lora_adapter", async (c) => {
      const body = await readJson(c, LoadLoraRequest);
      await registry.first().adapters.load(body.lora_name, body.lora_path);
      return c.text(`Success: LoRA adapter '${body.lora_name}' added successfully.`);
    })
    .post("/v1/unload_lora_adapter", async (c) => {
      const body = await readJson(c, UnloadLoraRequest);
      const serving = registry.list().find((s) => s.adapters.has(body.lora_name)) ?? registry.first();
      serving.adapters.unload(body.lora_name);
      return c.text(`Success: LoRA adapter '${body.lora_name}' removed successfully.`);
    });
}
