// The loadtest CLI: drives any OpenAI-compatible server with a seeded workload and reports vLLM-style latency and
// throughput statistics, as a table, JSON and a self-contained HTML report.
// usage: npm run loadtest -- --url URL [--model NAME] [--workload uniform|shared-prefix|multi-turn|mixed]
//        [--concurrency N[,N...] | --rate R] [--requests N] [--duration S] [--max-tokens N] [--seed N]
//        [--endpoint chat|completions] [--no-ignore-eos] [--slo-ttft MS] [--slo-tpot MS] [--api-key KEY]
//        [--models A,B,...] [--out FILE.json] [--html FILE.html]   (--models: conversations take them in turn, e.g.
// adapters)
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { firstModel, type Endpoint } from "./client.js";
import { htmlReport } from "./report-html.js";
import { summaryTable } from "./report-table.js";
import { runWorkload, type RunResult } from "./runner.js";
import { WORKLOADS, type WorkloadName } from "./workloads.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      model: { type: "string" },
      workload: { type: "string", default: "uniform" },
      concurrency: { type: "string" },
      rate: { type: "string" },
      requests: { type: "string" },
      duration: { type: "string" },
      "max-tokens": { type: "string", default: "64" },
      seed: { type: "string", default: "0" },
      endpoint: { type: "string", default: "chat" },
      "no-ignore-eos": { type: "boolean" },
      "slo-ttft": { type: "string", default: "1000" },
      "slo-tpot": { type: "string", default: "100" },
      "api-key": { type: "string" },
      out: { type: "string" },
      html: { type: "string" },
      models: { type: "string" },
    },
  });
  if (!values.url) throw new RangeError("--url is required (e.g. --url http://127.0.0.1:8080)");
  const workload = values.workload as WorkloadName;
  if (!WORKLOADS.includes(workload)) throw new RangeError(`--workload must be one of ${WORKLOADS.join(", ")}`);
  if (values.endpoint !== "chat" && values.endpoint !== "completions")
    throw new RangeError("--endpoint must be chat or completions");
  const url = values.url.replace(/\/+$/, "").replace(/\/v1$/, "");
  const apiKey = values["api-key"];
  const model = values.model ?? (await firstModel(url, apiKey));
  const target = {
    url,
    model,
    endpoint: values.endpoint as Endpoint,
    ignoreEos: !values["no-ignore-eos"],
    ...(apiKey ? { apiKey } : {}),
  };
  const levels: (number | undefined)[] =
    values.rate !== undefined ? [undefined] : (values.concurrency ?? "1").split(",").map(Number);
  const runs: RunResult[] = [];
  for (const concurrency of levels) {
    const requests = Number(values.requests ?? (concurrency !== undefined ? Math.max(8, concurrency * 4) : 64));
    const run = await runWorkload({
      target,
      workload,
      requests,
      ...(concurrency !== undefined ? { concurrency } : { rate: Number(values.rate) }),
      ...(values.duration !== undefined ? { durationSeconds: Number(values.duration) } : {}),
      workloadOptions: { seed: Number(values.seed), maxTokens: Number(values["max-tokens"]) },
      slo: { ttftMs: Number(values["slo-ttft"]), tpotMs: Number(values["slo-tpot"]) },
      ...(values.models ? { models: values.models.split(",") } : {}),
      onProgress: (line) =>
        process.stderr.write(
          `\r[${workload} ${concurrency !== undefined ? `c=${concurrency}` : `rate=${values.rate}`}] ${line}   `,
        ),
    });
    process.stderr.write("\n");
    runs.push(run);
  }
  console.log(summaryTable(runs));
  if (values.out) writeFileSync(values.out, `${JSON.stringify({ runs }, null, 2)}\n`);
  if (values.html) writeFileSync(values.html, htmlReport(runs));
}

main().catch((error: unknown) => {
  console.error(error instanceof RangeError ? error.message : error);
  process.exit(error instanceof RangeError ? 2 : 1);
});
