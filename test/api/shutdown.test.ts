// SIGTERM during load: in-flight requests complete, new ones are refused, the process exits 0.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { expect, it } from "vitest";
import { repoRoot, tinyModel } from "../helpers/models.js";

it("drains in-flight streams on SIGTERM, refuses new requests and exits 0", async () => {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "bin", "loom.mjs"),
      "serve",
      tinyModel(),
      "--port",
      "0",
      "--threads",
      "1",
      "--kv-tokens",
      "4096",
      "--log-level",
      "warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      const match = /at (http:\/\/\S+)\/v1/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the server exited with ${code} before listening: ${stderr}`)));
  });
  const post = (maxTokens: number) =>
    fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "tiny",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: maxTokens,
        ignore_eos: true,
        stream: true,
      }),
    });
  const inFlight = await Promise.all(Array.from({ length: 4 }, () => post(400)));
  const bodies = inFlight.map((r) => r.text());
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 50));
  const late = await post(4).then(
    (r) => r.status,
    () => "refused",
  );
  expect([503, "refused"]).toContain(late);
  for (const body of await Promise.all(bodies)) {
    expect(body).toContain('"finish_reason":"length"');
    expect(body.endsWith("data: [DONE]\n\n")).toBe(true);
  }
  const [code] = await exited;
  expect(code, stderr).toBe(0);
});
