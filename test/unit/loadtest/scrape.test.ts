// metricSum against a real HTTP server on a loopback port: Loom's labelled series, llama-server's unlabelled ones,
// label filters, and a server without /metrics; serverTimeMs on Server-Timing headers.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricSum, serverTimeMs } from "../../../loadtest/scrape.js";

const TEXT = [
  "# HELP vllm:spec_decode_num_draft_tokens_total Draft tokens verified.",
  "# TYPE vllm:spec_decode_num_draft_tokens_total counter",
  'vllm:spec_decode_num_draft_tokens_total{model_name="a"} 12',
  'vllm:spec_decode_num_draft_tokens_total{model_name="b"} 30',
  'vllm:spec_decode_num_draft_tokens_total_extra{model_name="a"} 1000',
  "llamacpp:spec_decode_num_draft_tokens_total 7",
  "llamacpp:spec_decode_num_draft_tokens_total_other 99",
].join("\n");

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === "/metrics") response.end(TEXT);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it("sums a metric's labelled series, only those whose labels match, and no metric that merely starts alike", async () => {
  expect(await metricSum(url, "vllm:spec_decode_num_draft_tokens_total")).toBe(42);
  expect(await metricSum(url, "vllm:spec_decode_num_draft_tokens_total", { model_name: "b" })).toBe(30);
  expect(await metricSum(url, "vllm:spec_decode_num_draft_tokens_total", { model_name: "c" })).toBe(0);
});

it("reads an unlabelled series (llama-server's counters)", async () => {
  expect(await metricSum(url, "llamacpp:spec_decode_num_draft_tokens_total")).toBe(7);
});

it("gives 0 for a server without /metrics", async () => {
  expect(await metricSum(`${url}/none`, "vllm:spec_decode_num_draft_tokens_total")).toBe(0);
});

describe("serverTimeMs", () => {
  it("reads app;dur from Server-Timing, among other metrics, and NaN without it", () => {
    const timed = (value: string | null) =>
      new Response(null, value === null ? {} : { headers: { "server-timing": value } });
    expect(serverTimeMs(timed("app;dur=1.250"))).toBe(1.25);
    expect(serverTimeMs(timed("render;dur=0.5, app;dur=3.000"))).toBe(3);
    expect(serverTimeMs(timed("myapp;dur=9"))).toBeNaN();
    expect(serverTimeMs(timed(null))).toBeNaN();
  });
});
