// Several models and versions in one server, reached through a weighted, sticky split: every API goes through the
// route, responses keep the requested name and say in headers what served them, metrics carry the variant, and
// /v1/models lists models, versions and routes.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRoutes } from "../../src/routing/config.js";
import { Route } from "../../src/routing/route.js";
import { jsonOf, metricValue, post, type RoutingServer, routeRequest, startRoutingServer } from "../helpers/routing.js";

const CONFIG = `
kv_tokens: 2048
max_running: 8
models:
  - { name: story }
  - { name: story, version: 2 }
  - { name: tiny, max_running: 4 }
routes:
  - name: assistant
    split: [{ target: story@1, weight: 90 }, { target: story@2, weight: 10, variant: canary }]
    sticky: user
  - name: by-session
    split: [{ target: story@1, weight: 50 }, { target: tiny, weight: 50 }]
    sticky: header:x-session-id
`;

let server: RoutingServer;
beforeAll(async () => {
  server = await startRoutingServer(CONFIG, { overrides: { responseCache: true } });
});
afterAll(async () => {
  await server?.close();
});

const ask = (model: string, user?: string, headers: Record<string, string> = {}) =>
  post(
    server.url,
    "/v1/chat/completions",
    { model, messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 1, ...(user ? { user } : {}) },
    headers,
  );

describe("a server started from a config file", () => {
  it("serves each version as NAME@VERSION, NAME as its newest version, and lists versions and routes", async () => {
    const ids = (await server.client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["story@1", "story@2", "story", "tiny@1", "tiny", "assistant"]));
    const story = await server.client.models.retrieve("story");
    expect(story).toMatchObject({ id: "story", root: "story@2" });
    const route = (await server.client.models.retrieve("assistant")) as unknown as { route: object };
    expect(route.route).toEqual({
      policy: "split",
      targets: [
        { target: "story@1", role: "split" },
        { target: "story@2", role: "split" },
      ],
    });
    const direct = await ask("story@1");
    expect(direct.status).toBe(200);
    expect(direct.headers.get("x-loom-served-model")).toBe("story@1");
    expect(direct.headers.get("x-loom-route")).toBeNull();
  });

  it("answers an unknown route or version with 404, naming the versions that are loaded", async () => {
    const version = await ask("story@9");
    expect(version.status).toBe(404);
    expect(version.body.error).toMatchObject({ code: "model_not_found", param: "model" });
    expect(version.body.error.message).toBe(
      "The model 'story@9' does not exist: version 9 of 'story' is not loaded (loaded: 1, 2)",
    );
    const route = await ask("no-such-route");
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe("model_not_found");
  });

  it("sends each user to the variant the split function picks for them, and never switches it", async () => {
    // The same decision function the server runs, on the same spec: the share it gives over 1,000 keys is pinned by
    // the unit tests; here the server must agree with it key by key.
    const route = new Route(
      parseRoutes([
        {
          name: "assistant",
          split: [
            { target: "story@1", weight: 90 },
            { target: "story@2", weight: 10, variant: "canary" },
          ],
          sticky: "user",
        },
      ])[0]!,
      { now: () => 0, random: () => 0 },
    );
    const expected = (user: string) =>
      route.choose(routeRequest({ user }), () => {
        throw new Error("no rules here");
      }).variant;
    const seen = new Map<string, string>();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 60; i++) {
        const user = `user-${i}`;
        const response = await ask("assistant", user);
        expect(response.status).toBe(200);
        expect(response.body.model).toBe("assistant");
        expect(response.headers.get("x-loom-route")).toBe("assistant");
        const variant = response.headers.get("x-loom-variant")!;
        expect(variant).toBe(expected(user));
        expect(response.headers.get("x-loom-served-model")).toBe(variant === "canary" ? "story@2" : "story@1");
        if (seen.has(user)) expect(variant).toBe(seen.get(user));
        seen.set(user, variant);
      }
    }
    expect(new Set(seen.values())).toEqual(new Set(["story@1", "canary"]));
  });

  it("keeps a session on its variant by header", async () => {
    for (const session of ["s-1", "s-2", "s-3", "s-4"]) {
      const served = new Set<string>();
      for (let i = 0; i < 4; i++)
        served.add((await ask("by-session", undefined, { "x-session-id": session })).headers.get("x-loom-variant")!);
      expect(served.size).toBe(1);
    }
  });

  it("labels the request metrics with the route and variant, and counts the route's decisions", async () => {
    const canaryUser = await findUser("canary");
    const before = await metricValue(server.url, "vllm:request_success_total", {
      model_name: "story@2",
      route: "assistant",
      variant: "canary",
    });
    expect((await ask("assistant", canaryUser)).status).toBe(200);
    expect(
      await metricValue(server.url, "vllm:request_success_total", {
        model_name: "story@2",
        route: "assistant",
        variant: "canary",
      }),
    ).toBe(before + 1);
    expect(
      await metricValue(server.url, "vllm:e2e_request_latency_seconds_count", {
        route: "assistant",
        variant: "canary",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await metricValue(server.url, "loom:route_requests_total", {
        route: "assistant",
        variant: "canary",
        target: "story@2",
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("routes completions, Responses, Messages and embeddings alike, each answer keeping the route's name", async () => {
    const user = await findUser("canary");
    const completion = await post(server.url, "/v1/completions", {
      model: "assistant",
      prompt: "Once upon a time",
      max_tokens: 2,
      user,
    });
    expect(completion.body.model).toBe("assistant");
    expect(completion.headers.get("x-loom-served-model")).toBe("story@2");
    const response = await server.client.responses
      .create({ model: "assistant", input: "Hello", max_output_tokens: 2, user })
      .withResponse();
    expect(response.data.model).toBe("assistant");
    expect(response.response.headers.get("x-loom-variant")).toBe("canary");
    const anthropic = new Anthropic({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
    const message = await anthropic.messages
      .create({
        model: "assistant",
        max_tokens: 2,
        messages: [{ role: "user", content: "Hi" }],
        metadata: { user_id: user },
      })
      .withResponse();
    expect(message.data.model).toBe("assistant");
    expect(message.response.headers.get("x-loom-served-model")).toBe("story@2");
    const embeddings = await post(server.url, "/v1/embeddings", { model: "assistant", input: "hello", user });
    expect(embeddings.status).toBe(200);
    expect(embeddings.headers.get("x-loom-served-model")).toBe("story@2");
  });

  it("answers a model named directly from the response cache, never a route, whose pick may differ", async () => {
    const greedy = (model: string) =>
      post(server.url, "/v1/chat/completions", {
        model,
        messages: [{ role: "user", content: "Once upon a time" }],
        max_tokens: 4,
        temperature: 0,
      });
    expect((await greedy("story@1")).headers.get("x-loom-cache")).toBe("miss");
    const again = await greedy("story@1");
    expect(again.headers.get("x-loom-cache")).toBe("hit");
    for (let i = 0; i < 2; i++) {
      const routed = await greedy("assistant");
      expect(routed.status).toBe(200);
      expect(routed.headers.get("x-loom-cache")).toBeNull();
      expect(routed.headers.get("x-loom-route")).toBe("assistant");
    }
  });

  it("shows the routes to the dashboard with their weights", async () => {
    const caps = await jsonOf(await fetch(`${server.url}/loom/v1/capabilities`));
    expect(caps.data).toContain("routes");
    const routes = await jsonOf(await fetch(`${server.url}/loom/v1/routes`));
    expect(routes.data[0]).toMatchObject({
      name: "assistant",
      policy: "split",
      targets: [
        { target: "story@1", weight: 0.9, variant: "story@1" },
        { target: "story@2", weight: 0.1, variant: "canary" },
      ],
    });
    expect(routes.config).toMatchObject({ source: server.configPath, last_error: null });
  });
});

/** A user the split sends to `variant`. */
async function findUser(variant: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const response = await ask("assistant", `probe-${i}`);
    if (response.headers.get("x-loom-variant") === variant) return `probe-${i}`;
  }
  throw new Error(`no user among 200 lands on ${variant}`);
}
