// The routes and the LLM repository at run time, behind the admin key: routes replaced through the admin API and
// through the watched config file (a set that does not parse or names a missing model is refused with the reason
// and the routes in force stay), versions loaded, reloaded and unloaded, a corrupt version refused with its reason,
// and the memory budget.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, post, putVersion, type RoutingServer, startRoutingServer } from "../helpers/routing.js";
import { STORIES_260K, sharedModel } from "../helpers/models.js";

const ADMIN = { authorization: "Bearer admin-key" };
const USER = { authorization: "Bearer user-key" };

const CONFIG = `
kv_tokens: 1024
max_running: 4
models:
  - { name: story }
  - { name: story, version: 2 }
routes:
  - { name: live, target: story@1 }
`;

let server: RoutingServer;
beforeAll(async () => {
  server = await startRoutingServer(CONFIG, { overrides: { apiKeys: ["user-key"], adminKeys: ["admin-key"] } });
});
afterAll(async () => {
  await server?.close();
});

const servedBy = async (model: string) => {
  const response = await post(
    server.url,
    "/v1/completions",
    { model, prompt: "Once upon a time", max_tokens: 1 },
    USER,
  );
  expect(response.status).toBe(200);
  return response.headers.get("x-loom-served-model");
};

const putRoutes = (body: string, contentType: string, headers = ADMIN) =>
  fetch(`${server.url}/loom/v1/routes`, { method: "PUT", headers: { "content-type": contentType, ...headers }, body });

const routesNow = async () => (await (await fetch(`${server.url}/loom/v1/routes`, { headers: USER })).json()) as any;

describe("routes through the admin API", () => {
  it("needs the admin key to change routes; an API key reads them", async () => {
    expect((await putRoutes("[]", "application/json", USER)).status).toBe(401);
    expect((await fetch(`${server.url}/loom/v1/routes`, { headers: USER })).status).toBe(200);
  });

  it("replaces the routes from JSON or YAML, switching a target atomically", async () => {
    expect(await servedBy("live")).toBe("story@1");
    const json = await putRoutes(JSON.stringify({ routes: [{ name: "live", target: "story@2" }] }), "application/json");
    expect(json.status).toBe(200);
    expect(await servedBy("live")).toBe("story@2");
    const yaml = await putRoutes("routes:\n  - { name: live, target: story@1 }\n", "application/yaml");
    expect(yaml.status).toBe(200);
    expect((await jsonOf(yaml)).config).toMatchObject({ source: "admin API", last_error: null });
    expect(await servedBy("live")).toBe("story@1");
  });

  it("refuses routes that do not parse or name missing models with the reason, and keeps the ones in force", async () => {
    const broken = await putRoutes("routes: [ { name: live, target: story@2 ", "application/yaml");
    expect(broken.status).toBe(400);
    const brokenError = (await jsonOf(broken)).error;
    expect(brokenError).toMatchObject({ code: "invalid_route_config", param: "routes" });
    expect(brokenError.message).toMatch(/^the routes do not parse: /);
    const missing = await putRoutes(JSON.stringify([{ name: "live", target: "story@7" }]), "application/json");
    expect(missing.status).toBe(400);
    expect((await jsonOf(missing)).error.message).toBe(
      "routes refused: route 'live': target 'story@7' is not served (The model 'story@7' does not exist: " +
        "version 7 of 'story' is not loaded (loaded: 1, 2))",
    );
    const invalid = await putRoutes(JSON.stringify([{ name: "live" }]), "application/json");
    expect((await jsonOf(invalid)).error.message).toMatch(/give exactly one of target, split/);
    expect(await servedBy("live")).toBe("story@1");
    const { config } = await routesNow();
    expect(config.last_error.message).toMatch(/give exactly one of/);
  });
});

describe("routes from the watched config file", () => {
  it("applies a changed file, and refuses one that does not parse or names a missing model", async () => {
    writeFileSync(server.configPath, CONFIG.replace("target: story@1", "target: story@2"));
    await waitFor(async () => (await servedBy("live")) === "story@2");
    expect((await routesNow()).config).toMatchObject({ source: server.configPath, last_error: null });

    writeFileSync(server.configPath, `${CONFIG}\n  - { name: broken`);
    await waitFor(async () => (await routesNow()).config.last_error !== null);
    expect((await routesNow()).config.last_error).toMatchObject({ source: server.configPath });
    expect((await routesNow()).config.last_error.message).toMatch(/does not parse as YAML/);
    expect(await servedBy("live")).toBe("story@2");

    writeFileSync(server.configPath, CONFIG.replace("target: story@1", "target: story@5"));
    await waitFor(async () => /story@5/.test((await routesNow()).config.last_error?.message ?? ""));
    expect((await routesNow()).config.last_error.message).toMatch(/route 'live': target 'story@5' is not served/);
    expect(await servedBy("live")).toBe("story@2");
    expect(server.logs.filter((l) => l.event === "routes_refused").length).toBeGreaterThanOrEqual(2);
  });
});

describe("the LLM repository", () => {
  const index = async () =>
    (await (await fetch(`${server.url}/loom/v1/repository`, { headers: USER })).json()) as {
      data: { name: string; version: string; state: string; reason: string; memory_bytes: number | null }[];
      memory: { budget_bytes: number | null; used_bytes: number };
    };

  it("lists the versions with their state and memory", async () => {
    const { data, memory } = await index();
    expect(data.filter((e) => e.name === "story")).toEqual([
      { name: "story", version: "1", state: "READY", reason: "", memory_bytes: expect.any(Number) },
      { name: "story", version: "2", state: "READY", reason: "", memory_bytes: expect.any(Number) },
    ]);
    expect(memory.budget_bytes).toBeNull();
    expect(memory.used_bytes).toBe(data[0]!.memory_bytes! * 2);
  });

  it("loads a version put in the repository at run time, and NAME moves to it", async () => {
    putVersion(server.dir, "story", 3, sharedModel(STORIES_260K));
    const denied = await post(server.url, "/loom/v1/repository/models/story/load", { version: 3 }, USER);
    expect(denied.status).toBe(401);
    const loaded = await post(server.url, "/loom/v1/repository/models/story/load", { version: 3 }, ADMIN);
    expect(loaded).toMatchObject({ status: 200, body: { model: "story@3", state: "READY" } });
    expect(await servedBy("story")).toBe("story@3");
    expect(await servedBy("story@3")).toBe("story@3");
  });

  it("refuses to unload a version a route names, and unloads it once the route moved", async () => {
    const refused = await post(server.url, "/loom/v1/repository/models/story/unload", { version: 2 }, ADMIN);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(
      "story@2 cannot be unloaded: route 'live' sends requests to it (as 'story@2'); change the route first",
    );
    const unloaded = await post(server.url, "/loom/v1/repository/models/story/unload", { version: 3 }, ADMIN);
    expect(unloaded).toMatchObject({ status: 200, body: { unloaded: ["story@3"] } });
    expect(await servedBy("story")).toBe("story@2");
    const gone = await post(server.url, "/v1/completions", { model: "story@3", prompt: "x", max_tokens: 1 }, USER);
    expect(gone.status).toBe(404);
    expect((await index()).data.find((e) => e.version === "3")).toMatchObject({
      state: "UNAVAILABLE",
      reason: "unloaded",
    });
  });

  it("refuses a corrupt version with the reason, lists it UNAVAILABLE, and keeps serving the rest", async () => {
    const path = join(server.dir, "story", "4", "model.gguf");
    putVersion(server.dir, "story", 4, sharedModel(STORIES_260K));
    writeFileSync(path, "GGUF but not really a model");
    const failed = await post(server.url, "/loom/v1/repository/models/story/load", { version: 4 }, ADMIN);
    expect(failed.status).toBe(400);
    expect(failed.body.error.code).toBe("model_load_failed");
    expect(failed.body.error.message).toMatch(/^model story@4 could not be loaded: /);
    const entry = (await index()).data.find((e) => e.version === "4")!;
    expect(entry.state).toBe("UNAVAILABLE");
    expect(entry.reason).toMatch(/model\.gguf/);
    const unknown = await post(server.url, "/loom/v1/repository/models/story/load", { version: 9 }, ADMIN);
    expect(unknown.status).toBe(404);
    expect(await servedBy("story")).toBe("story@2");
  });
});

describe("the memory budget", () => {
  it("refuses a start and a load that would pass it, naming what holds the memory", async () => {
    const sizes = await jsonOf(await fetch(`${server.url}/loom/v1/repository`, { headers: USER }));
    const one = sizes.data[0].memory_bytes as number;
    await expect(startRoutingServer(CONFIG, { overrides: { memoryBudget: Math.floor(one * 1.5) } })).rejects.toThrow(
      /story@2 needs about .* GiB .* of the .* GiB memory budget is free \(held: story@1 /,
    );
    const tight = await startRoutingServer(CONFIG, { overrides: { memoryBudget: Math.floor(one * 2.5) } });
    try {
      putVersion(tight.dir, "story", 3, sharedModel(STORIES_260K));
      const refused = await post(tight.url, "/loom/v1/repository/models/story/load", { version: 3 });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toMatch(/raise --memory-budget$/);
      // A reload of a loaded version needs room for both while the old one drains.
      const reload = await post(tight.url, "/loom/v1/repository/models/story/load", { version: 1 });
      expect(reload.status).toBe(400);
    } finally {
      await tight.close();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
