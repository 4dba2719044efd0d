// The loadtest end to end against a real Loom server: every report field present and consistent with the server.
import { afterAll, beforeAll, expect, it } from "vitest";
import { htmlReport } from "../../loadtest/report-html.js";
import { runWorkload } from "../../loadtest/runner.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

it("runs a 10-request workload and reports consistent statistics", async () => {
  const engine = server.registry.get(server.model).engine;
  const generatedBefore = engine.stats().numGeneratedTokens;
  const run = await runWorkload({
    target: { url: server.url, model: server.model, endpoint: "chat", ignoreEos: true },
    workload: "multi-turn",
    concurrency: 3,
    requests: 10,
    workloadOptions: { seed: 5, maxTokens: 12 },
    slo: { ttftMs: 60_000, tpotMs: 60_000 },
  });
  const { summary, records } = run;
  expect(records.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(records.every((r) => r.ok && r.error === null)).toBe(true);
  expect(summary).toMatchObject({ requests: 10, completed: 10, failed: 0 });
  expect(summary.outputTokens).toBe(records.reduce((sum, r) => sum + r.outputTokens, 0));
  expect(summary.outputTokens).toBe(120); // ignore_eos: every request gives max_tokens
  expect(engine.stats().numGeneratedTokens - generatedBefore).toBe(120);
  expect(summary.promptTokens).toBe(records.reduce((sum, r) => sum + r.promptTokens, 0));
  // Later turns carry the conversation so far, so their prompts are longer.
  expect(records[9]!.promptTokens).toBeGreaterThan(records[0]!.promptTokens);
  for (const r of records) {
    expect(r.ttftMs!).toBeGreaterThan(0);
    expect(r.ttftMs!).toBeLessThanOrEqual(r.e2eMs);
    expect(r.itlMs.length).toBeGreaterThan(0);
  }
  for (const d of [summary.ttftMs, summary.tpotMs, summary.itlMs, summary.e2eMs]) {
    expect(d.count).toBeGreaterThan(0);
    expect(d.p50).toBeLessThanOrEqual(d.p90);
    expect(d.p90).toBeLessThanOrEqual(d.p99);
    expect(d.p99).toBeLessThanOrEqual(d.max);
  }
  expect(summary.outputTokensPerSecond).toBeCloseTo(summary.outputTokens / summary.durationSeconds, 6);
  expect(summary.goodput).toBeCloseTo(summary.requestsPerSecond, 6); // a lax SLO: everything meets it
  const html = htmlReport([run]);
  expect(html).toContain("new uPlot(");
  expect(html).toContain("TTFT CDF");
  expect(html).toContain("multi-turn c=3");
});

it("records a failed request instead of stopping the run", async () => {
  const run = await runWorkload({
    target: { url: server.url, model: "no-such-model", endpoint: "completions", ignoreEos: false },
    workload: "uniform",
    rate: 50,
    requests: 3,
    workloadOptions: { seed: 1, maxTokens: 4 },
    slo: { ttftMs: 1000, tpotMs: 100 },
  });
  expect(run.summary).toMatchObject({ requests: 3, completed: 0, failed: 3 });
  expect(run.records[0]!.error).toMatch(/HTTP 404/);
});
