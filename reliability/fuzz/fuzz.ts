// npm run fuzz: reads /openapi.json from a running Loom and sends every route requests generated from its schemas
// (valid, broken, raw, chunked, slow, truncated, aborted) at a chosen concurrency; reports the statuses seen per
// route, and fails on a 5xx, an error body outside the route's shape, a hung request, or a counter not back at idle
// afterwards (sequences running and waiting, KV blocks used, jobs, batch lines, the server's file descriptors).
// Request i is generated from seed + i alone, so a failure replays with --seed S --replay i.
// usage: npm run fuzz -- [--requests 3000] [--concurrency 8] [--seed N] [--replay I] [--redis] [--timeout-ms 60000]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { Agent } from "undici";
import { startRedis, type TestRedis } from "../../test/helpers/redis.js";
import { errorShapeOf } from "../../src/api/openapi/route-table.js";
import { openFds, waitIdle } from "../common/counters.js";
import { type ServerUnderTest, startStack } from "../common/stack.js";
import { failuresOf } from "./check.js";
import { makeFixtures } from "./fixtures.js";
import { type FuzzRequest, type Parameter, type RouteOperation, requestsFor } from "./requests.js";
import type { JsonSchema } from "./schema-arbitrary.js";
import { send } from "./send.js";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "8" },
    seed: { type: "string" },
    replay: { type: "string" },
    redis: { type: "boolean", default: false },
    "timeout-ms": { type: "string", default: "60000" },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const timeoutMs = Number(values["timeout-ms"]);
const ERROR_SHAPE_NAMES = { openai: "OpenAIError", anthropic: "AnthropicError", kserve: "KServeError" } as const;

interface Operation {
  readonly method: string;
  readonly parameters: Parameter[];
  readonly requestBody?: { content: Record<string, { schema: JsonSchema }> };
  readonly "x-loom-endless-stream"?: boolean;
}
interface Document {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { schemas: Record<string, JsonSchema> };
}

const redis: TestRedis | null = values.redis ? await startRedis() : null;
const server: ServerUnderTest = await startStack(redis ? { redisUrl: redis.url } : {});
console.log(`fuzzing ${server.url} (pid ${server.pid}), seed ${seed}`);
const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as Document;
const fixtures = await makeFixtures(server);
const context = { components: document.components.schemas, hints: fixtures.hints };
const ajv = new Ajv2020({ strict: false, formats: { binary: true } });

const routes = Object.entries(document.paths).flatMap(([path, operations]) =>
  Object.entries(operations).map(([method, op]) => {
    const [mediaType, content] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
    const operation: RouteOperation = {
      method,
      path,
      parameters: op.parameters,
      body: mediaType && content ? { mediaType, schema: content.schema } : null,
    };
    return {
      key: `${method.toUpperCase()} ${path}`,
      endless: op["x-loom-endless-stream"] === true,
      requests: requestsFor(operation, context, fixtures.known),
      errorShape: ajv.compile(document.components.schemas[ERROR_SHAPE_NAMES[errorShapeOf(path)]]!),
    };
  }),
);

/** Request i: routes in turn, its content from seed + i. */
function requestAt(i: number): { route: (typeof routes)[number]; request: FuzzRequest } {
  const route = routes[i % routes.length]!;
  return { route, request: fc.sample(route.requests, { seed: seed + i, numRuns: 1 })[0]! };
}

const describe = (r: FuzzRequest) =>
  `${r.method} ${r.target.slice(0, 200)} [${r.variant}, ${r.transport}] ` +
  `${JSON.stringify(r.headers)} body ${r.body === null ? "none" : `${r.body.length} B: ${Buffer.from(r.body.subarray(0, 200)).toString()}`}`;

let crashed: string | null = null;
let stopping = false;
void server.launched.exited.then((code) => {
  if (stopping) return;
  crashed = `the server exited with code ${code} during the run:\n${server.launched.stderr().slice(-6000)}`;
  console.log(crashed);
});
const agent = new Agent({ connections: concurrency * 2 });
await new Promise((resolve) => setTimeout(resolve, 1000));
const baselineFds = openFds(server.pid).length;
const statuses = new Map<string, Map<string, number>>();
const failures: { index: number; route: string; request: string; problems: string[] }[] = [];
const indices = values.replay === undefined ? Array.from({ length: total }, (_, i) => i) : [Number(values.replay)];
const started = Date.now();
let next = 0;
let done = 0;
/** 504s with code request_timeout: the request's own `timeout` field asked for them (not a server fault). */
let requestedTimeouts = 0;

async function worker(): Promise<void> {
  while (next < indices.length) {
    const index = indices[next++]!;
    const { route, request } = requestAt(index);
    const outcome = await send(server.url, request, { agent, timeoutMs, endless: route.endless });
    const tally = statuses.get(route.key) ?? new Map<string, number>();
    const label = outcome.status === null ? `no answer (${request.transport})` : String(outcome.status);
    tally.set(label, (tally.get(label) ?? 0) + 1);
    statuses.set(route.key, tally);
    const problems = failuresOf(request, outcome, route.errorShape);
    if (outcome.status === 504 && problems.length === 0) requestedTimeouts++;
    if (problems.length > 0) {
      if (failures.length === 0)
        console.log(`first failure: #${index} ${describe(request)}\n  ${problems.join("\n  ")}`);
      failures.push({ index, route: route.key, request: describe(request), problems });
    }
    if (crashed) break;
    if (values.replay !== undefined) console.log(describe(request), "\n->", outcome);
    if (++done % 500 === 0)
      console.log(
        `${done}/${indices.length} requests, ${failures.length} failures, ${Math.round((Date.now() - started) / 1000)} s`,
      );
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
await agent.close();
const seconds = (Date.now() - started) / 1000;
const leaks = crashed ? [crashed] : await waitIdle(server.url, server.pid, baselineFds);

console.log(`\n${indices.length} requests in ${seconds.toFixed(0)} s over ${routes.length} routes, seed ${seed}`);
for (const [route, tally] of [...statuses].sort(([a], [b]) => a.localeCompare(b)))
  console.log(`  ${route.padEnd(48)} ${[...tally].map(([s, n]) => `${s}: ${n}`).join("  ")}`);
for (const f of failures.slice(0, 30))
  console.log(
    `\nFAIL #${f.index} (replay: npm run fuzz -- --seed ${seed} --replay ${f.index})\n  ${f.request}\n  ${f.problems.join("\n  ")}`,
  );
if (failures.length > 30) console.log(`... and ${failures.length - 30} more failures`);
for (const leak of leaks) console.log(`LEAK: ${leak}`);
const untouched = routes.filter((r) => !statuses.has(r.key)).map((r) => r.key);
if (untouched.length > 0 && values.replay === undefined) console.log(`routes never sent: ${untouched.join(", ")}`);

const dir = join(import.meta.dirname, "..", "results");
mkdirSync(dir, { recursive: true });
const fiveXx =
  [...statuses.values()].reduce(
    (n, t) => n + [...t].filter(([s]) => s.startsWith("5")).reduce((a, [, c]) => a + c, 0),
    0,
  ) - requestedTimeouts;
const summary = {
  seed,
  requests: indices.length,
  concurrency,
  seconds,
  routes: routes.length,
  statuses: Object.fromEntries([...statuses].map(([k, v]) => [k, Object.fromEntries(v)])),
  failures: failures.length,
  fiveXx,
  requestedTimeouts,
  leaks,
};
// A replay is one request: the last full run's figures stay.
if (values.replay === undefined) writeFileSync(join(dir, "fuzz-last.json"), JSON.stringify(summary, null, 2));
console.log(
  `\n${failures.length} failures (${fiveXx} 5xx answers; ${requestedTimeouts} 504s the request's own timeout asked for), ${leaks.length} leaked counters; wrote ${join(dir, "fuzz-last.json")}`,
);
stopping = true;
await server.stop();
await redis?.close();
process.exit(failures.length === 0 && leaks.length === 0 ? 0 : 1);
