// Chat templates: the GGUF's own, and a --chat-template file that replaces it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { sharedModel, STORIES_260K } from "../helpers/models.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function renderedChat(s: TestServer): Promise<string> {
  const post = async (path: string, body: unknown): Promise<any> =>
    (
      await fetch(`${s.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      })
    ).json();
  const { tokens } = await post("/tokenize", {
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
    ],
  });
  return (await post("/detokenize", { tokens })).prompt;
}

it("renders a --chat-template file in place of the model's template, with bos_token and the generation prompt", async () => {
  const dir = mkdtempSync(join(tmpdir(), "loom-template-"));
  const file = join(dir, "template.jinja");
  writeFileSync(
    file,
    "{{ bos_token }}{% for m in messages %}[{{ m.role | upper }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[ASSISTANT]{% endif %}",
  );
  server = await startTestServer({ chatTemplateFile: file });
  // The template writes BOS itself, so the tokenizer adds no second one.
  expect(await renderedChat(server)).toBe("<s> [SYSTEM] Be brief.\n[USER] Hi\n[ASSISTANT]");
});

it("falls back to ChatML for a GGUF without a chat template", async () => {
  server = await startTestServer({ model: sharedModel(STORIES_260K) });
  expect(server.registry.get(server.model).model.info.chatTemplate).toBeNull();
  expect(await renderedChat(server)).toContain("<|im_start|>system\nBe brief.<|im_end|>");
});

it("refuses to start on a template that does not parse", async () => {
  const dir = mkdtempSync(join(tmpdir(), "loom-template-"));
  const file = join(dir, "broken.jinja");
  writeFileSync(file, "{% for m in messages %}{{ m.content }");
  await expect(startTestServer({ chatTemplateFile: file })).rejects.toThrow(
    /broken.jinja does not parse as a Jinja template/,
  );
});
