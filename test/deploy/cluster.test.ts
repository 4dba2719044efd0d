// `npm run cluster`: the compose topology as local processes comes up, routes a request through the router to a
// replica that Prometheus scrapes, and goes away whole on SIGTERM.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { expect, it } from "vitest";
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
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
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
    const [code] = await once(cluster, "exit");
    expect(code, output).toBe(0);
    for (const url of [...replicas, `http://127.0.0.1:${port}`])
      expect(
        await fetch(`${url}/health/live`).then(
          () => "answered",
          () => "refused",
        ),
      ).toBe("refused");
  } finally {
    // SIGTERM, so that the cluster stops its own children even when the test failed.
    if (cluster.exitCode === null) {
      cluster.kill("SIGTERM");
      await once(cluster, "exit");
    }
  }
});
