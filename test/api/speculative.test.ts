// Speculative decoding through the server: --speculative ngram and draft on stories260K with --deterministic (so
// the text with and without speculation is bit-identical), the request field `speculative: false`, vLLM's
// spec_decode metrics, and the option combinations the server refuses at start-up.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/compose/server.js";
import { sharedModel, STORIES_260K, tinyModel } from "../helpers/models.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const PROMPT = "They did not want to play with the box. They did not want to play with the box. They";

async function metric(server: TestServer, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const [series, value] = [line.slice(0, line.lastIndexOf(" ")), Number(line.slice(line.lastIndexOf(" ") + 1))];
    values.set(series.slice(name.length), value);
  }
  return values;
}

const sum = (values: Map<string, number>) => [...values.values()].reduce((a, b) => a + b, 0);

describe.each([
  ["ngram", {}],
  ["draft", { draftModel: sharedModel(STORIES_260K) }],
] as const)("--speculative %s", (speculative, extra) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      model: sharedModel(STORIES_260K),
      speculative,
      deterministic: true,
      ...extra,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const complete = (body: Record<string, unknown>) =>
    server.client.completions.create({
      model: server.model,
      prompt: PROMPT,
      max_tokens: 48,
      temperature: 0,
      ...body,
    } as Parameters<typeof server.client.completions.create>[0] & { stream?: false });

  it("gives the text of a request that opted out, and counts drafts under vLLM's metric names", async () => {
    const plain = await complete({ speculative: false });
    expect(sum(await metric(server, "vllm:spec_decode_num_drafts_total"))).toBe(0);
    const speculated = await complete({});
    expect(speculated.choices[0]!.text).toBe(plain.choices[0]!.text);
    const drafts = sum(await metric(server, "vllm:spec_decode_num_drafts_total"));
    const draftTokens = sum(await metric(server, "vllm:spec_decode_num_draft_tokens_total"));
    const accepted = sum(await metric(server, "vllm:spec_decode_num_accepted_tokens_total"));
    const perPosition = await metric(server, "vllm:spec_decode_num_accepted_tokens_per_pos_total");
    expect(drafts).toBeGreaterThan(0);
    expect(draftTokens).toBeGreaterThanOrEqual(drafts);
    expect(accepted).toBeGreaterThan(0);
    expect(sum(perPosition)).toBe(accepted);
    expect([...perPosition.keys()][0]).toMatch(/position="0"/);
    // A draft model that is the model itself drafts exactly what it samples.
    if (speculative === "draft") expect(accepted).toBe(draftTokens);
  });

  it("refuses a `speculative` that is not a boolean, naming the field", async () => {
    await expect(complete({ speculative: "yes" })).rejects.toMatchObject({ status: 400, param: "speculative" });
  });
});

describe("start-up refusals", () => {
  const start = (overrides: Record<string, unknown>) =>
    startServer({ model: sharedModel(STORIES_260K), port: 0, kvTokens: 2048, logLevel: "warn", ...overrides });

  it.each([
    [{ draftModel: sharedModel(STORIES_260K) }, /--draft-model is the draft model of --speculative draft/],
    [{ speculative: "draft" }, /--speculative draft needs --draft-model PATH/],
    [{ speculative: "draft", draftModel: tinyModel() }, /has a vocabulary of \d+ tokens, the served model 512/],
    [{ deterministic: true, kvLayout: "unified" }, /--deterministic needs a stream per sequence/],
    [{ deterministic: true, flashAttention: "off" }, /--deterministic needs flash attention/],
  ])("%o", async (overrides, message) => {
    await expect(start(overrides)).rejects.toThrow(message);
  });
});
