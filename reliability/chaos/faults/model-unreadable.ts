// A model file made unreadable, then a reload asked for: an LLM of the repository (DIR/story/1/model.gguf, through
// POST /loom/v1/repository/models/story/load) and an ONNX model (DIR/scale/1/model.onnx, through KServe's
// /v2/repository/models/scale/load). Not root: the file's mode is set to 000 (EACCES). Root reads any mode, so
// there the file is replaced (renamed over, a new inode: the loaded version's mapping stays valid) by bytes that
// are no model. The reload must fail with a clear error, the loaded version must keep serving through it, and the
// other models must not notice.
import { chmodSync, copyFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startStack } from "../../common/stack.js";
import { chat, type Fault, SteadyTraffic, unclearError } from "../fault.js";

function makeUnreadable(file: string): string {
  if (process.getuid?.() !== 0) {
    chmodSync(file, 0o000);
    return "mode 000";
  }
  writeFileSync(`${file}.garbage`, Buffer.alloc(4096, 0x5a));
  renameSync(`${file}.garbage`, file);
  return "replaced by bytes that are no model (root reads any mode)";
}

async function infer(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/v2/models/scale/infer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs: [{ name: "x", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }] }),
  });
  return { status: response.status, text: await response.text() };
}

async function post(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: "POST" });
  return { status: response.status, text: await response.text() };
}

export const modelUnreadable: Fault = {
  name: "model-unreadable",
  what: "an LLM's GGUF and an ONNX model made unreadable (mode 000; replaced by garbage as root), then reloaded",
  expect:
    "each reload fails with a clear error naming the problem; the loaded versions keep serving; other models unaffected",
  async run() {
    const problems: string[] = [];
    const server = await startStack();
    try {
      const gguf = join(server.repository, "story", "1", "model.gguf");
      mkdirSync(join(server.repository, "story", "1"), { recursive: true });
      copyFileSync(server.model.path(), gguf);
      const loaded = await post(`${server.url}/loom/v1/repository/models/story/load`);
      if (loaded.status !== 200) throw new Error(`the LLM did not load: ${loaded.status} ${loaded.text}`);
      const story = new SteadyTraffic(() => chat(server.url, "story"));
      const base = new SteadyTraffic(() => chat(server.url, server.model.name));
      const tensors = new SteadyTraffic(() => infer(server.url));
      const how = makeUnreadable(gguf);
      makeUnreadable(join(server.repository, "scale", "1", "model.onnx"));
      for (const [name, url] of [
        ["LLM reload", `${server.url}/loom/v1/repository/models/story/load`],
        ["ONNX reload", `${server.url}/v2/repository/models/scale/load`],
      ] as const) {
        const reload = await post(url);
        if (reload.status < 400) problems.push(`${name} of an unreadable file answered ${reload.status}`);
        const unclear =
          name === "ONNX reload"
            ? /"error":"[^"]+"/.test(reload.text)
              ? null
              : `not KServe's error shape: ${reload.text}`
            : unclearError(reload.status, reload.text);
        if (unclear) problems.push(`${name}: ${unclear}`);
        console.log(`   ${name}: ${reload.status} ${reload.text.slice(0, 300)}`);
      }
      const results = { story: await story.stop(), base: await base.stop(), scale: await tensors.stop() };
      for (const [name, r] of Object.entries(results)) {
        if (r.ok === 0) problems.push(`${name} served nothing during the run`);
        for (const f of r.failures.slice(0, 3)) problems.push(`${name} failed during the reloads: ${f}`);
      }
      const after = await chat(server.url, "story");
      if (after.status !== 200) problems.push(`the loaded LLM no longer serves: ${after.status} ${after.text}`);
      return {
        problems,
        figures: {
          unreadable_as: how,
          story_ok: results.story.ok,
          base_ok: results.base.ok,
          scale_ok: results.scale.ok,
        },
      };
    } finally {
      await server.stop();
    }
  },
};
