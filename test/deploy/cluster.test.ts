// `npm run cluster`: the compose topology as local processes comes up, routes a request through the router to a
// replica that Prometheus scrapes, and goes away whole on SIGTERM.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { expect, it } from "vitest";
import { settlesWithin } from "../../src/ops/deadline.js";
import { repoRoot } from "../helpers/models.js";
import { freePort } from "../helpers/processes.js";

it("starts replicas, router and Prometheus, serves through the router, and stops them all on SIGTERM", async () => {
  const [port, prometheusPort] = [await freePort(), await freePort()];
  const cluster = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(repoRoot, "deploy", "cluster.ts"),
      "--port",
      String(port),
      "--prometheus-port",
      String(prometheusPort),
    ],
    // Its own process group, so that a failed test can kill the Loom processes it started if SIGTERM does not.
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let output = "";
  const collect = (data: Buffer) => {
    output += data.toString();
  };
  cluster.stdout.on("data", collect);
  cluster.stderr.on("data", collect);
  try {
    const deadline = Date.now() + 90_000;
    while (!output.includes("cluster: ready at") && cluster.exitCode === null && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect(output).toContain(`cluster: ready at http://127.0.0.1:${port}/v1`);
    const replicas = /cluster: 2 replica\(s\): (.+)/.exec(output)![1]!.split(" ");
    expect(output).toContain(`prometheus http://127.0.0.1:${prometheusPort}`);

    const response = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", prompt: "hello", max_tokens: 2 }),
    });
    expect(response.status).toBe(200);
    expect(replicas).toContain(response.headers.get("x-loom-replica"));
    // Prometheus lists its targets after its first service-discovery round.
    let scraped: string[] = [];
    for (let i = 0; i < 50 && scraped.length < 3; i++) {
      const targets = await (await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/targets`)).json();
      scraped = (targets as { data: { activeTargets: { scrapeUrl: string }[] } }).data.activeTargets.map(
        (t) => new URL(t.scrapeUrl).origin,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(scraped).toEqual(expect.arrayContaining([...replicas, `http://127.0.0.1:${port}`]));

    cluster.kill("SIGTERM");
    const exit = once(cluster, "exit");
    // Every process of the cluster drains at once (nothing is in flight): far inside the test's timeout.
    const stopped = await Promise.race([exit, new Promise((resolve) => setTimeout(() => resolve(null), 30_000))]);
    expect(stopped, `the cluster did not stop within 30 s of SIGTERM:\n${output}`).not.toBeNull();
    const [code] = await exit;
    expect(code, output).toBe(0);
    for (const url of [...replicas, `http://127.0.0.1:${port}`])
      expect(
        await fetch(`${url}/health/live`).then(
          () => "answered",
          () => "refused",
        ),
      ).toBe("refused");
  } finally {
    // After a failure: SIGTERM first, since the cluster's Redis and Prometheus have process groups of their own and
    // only the cluster stops them; its group is killed only if that does not end it in time.
    if (cluster.exitCode === null && cluster.signalCode === null) {
      cluster.kill("SIGTERM");
      if (!(await settlesWithin(once(cluster, "exit"), 20_000))) process.kill(-cluster.pid!, "SIGKILL");
    }
  }
});
