// What exists on the server before fuzzing starts, so generated requests can name real things: a batch input file, a
// batch, a stored response, a background request; and the realistic values (`hints`) put on fields by name.
import { join } from "node:path";
import fc from "fast-check";
import type { ServerUnderTest } from "../common/stack.js";
import type { Hints } from "./schema-arbitrary.js";

export interface Fixtures {
  /** Realistic path parameter values by parameter name. */
  readonly known: Readonly<Record<string, readonly string[]>>;
  readonly hints: Hints;
}

async function post(url: string, path: string, body: unknown): Promise<{ id: string }> {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`fixture ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string };
}

/** Creates the fixtures on `server`. */
export async function makeFixtures(server: ServerUnderTest): Promise<Fixtures> {
  const { url, loraDir, model } = server;
  const CHAT = { model: model.name, messages: [{ role: "user", content: "hi" }], max_tokens: 4 };
  const form = new FormData();
  form.set("purpose", "batch");
  const lines = [0, 1].map((i) =>
    JSON.stringify({ custom_id: `f-${i}`, method: "POST", url: "/v1/chat/completions", body: CHAT }),
  );
  form.set("file", new Blob([lines.join("\n")]), "input.jsonl");
  const upload = await fetch(`${url}/v1/files`, { method: "POST", body: form });
  if (!upload.ok) throw new Error(`fixture /v1/files: ${upload.status} ${await upload.text()}`);
  const file = (await upload.json()) as { id: string };
  const batch = await post(url, "/v1/batches", {
    input_file_id: file.id,
    endpoint: "/v1/chat/completions",
    completion_window: "24h",
  });
  const response = await post(url, "/v1/responses", { model: model.name, input: "hi", max_output_tokens: 4 });
  const background = await post(url, "/v1/background_requests", { endpoint: "/v1/chat/completions", body: CHAT });
  const models = [model.name, model.adapterName, "scale", "mnist"];
  const ids = [file.id, batch.id, response.id, background.id];
  const small = (max: number) => fc.integer({ min: 1, max });
  return {
    known: {
      id: [...ids, ...models],
      name: ["scale", "mnist", "missing"],
      version: ["1", "2", "0"],
    },
    hints: {
      model: fc.constantFrom(...models),
      max_tokens: small(16),
      max_completion_tokens: small(16),
      max_output_tokens: small(16),
      n: small(3),
      endpoint: fc.constantFrom("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"),
      completion_window: fc.constantFrom("24h", "1h", "0s"),
      input_file_id: fc.constant(file.id),
      previous_response_id: fc.constant(response.id),
      lora_name: fc.constantFrom(model.adapterName, "extra"),
      lora_path: fc.constantFrom(
        join(loraDir, `${model.adapterName}.gguf`),
        join(loraDir, "missing.gguf"),
        "/etc/passwd",
      ),
      datatype: fc.constantFrom("FP32", "INT64", "BYTES", "FP16", "BOOL"),
      shape: fc.constantFrom([1, 4], [2, 4], [1, 1, 28, 28], [0, 4]),
      messages: fc.array(
        fc.record({ role: fc.constantFrom("system", "user", "assistant"), content: fc.string({ maxLength: 40 }) }),
        { minLength: 1, maxLength: 3 },
      ),
      input: fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 3 }),
      ),
      prompt: fc.string({ maxLength: 40 }),
      tokens: fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 8 }),
    },
  };
}
