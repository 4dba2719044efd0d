// GET /loom/v1/routes: the routes in force, with their targets' weights and breaker states (the dashboard's routes
// table reads `data`), where they came from and the last update refused. GET /loom/v1/routes/{name}: one route.
// PUT /loom/v1/routes (admin key): replaces the routes, from JSON ({"routes": [...]} or a list) or YAML (the
// config file's `routes:` section, Content-Type application/yaml); a set that does not parse or names a model that
// is not served is refused with a 400 that says why, and the routes in force stay.
import { Hono } from "hono";
import type { Routing } from "../../routing/routing.js";
import { parseJson, readBody } from "../body.js";
import { ApiError } from "../errors.js";

const wireStatus = (routing: Routing) => {
  const { source, updatedAt, lastError } = routing.status;
  return {
    source,
    updated_at: updatedAt === null ? null : Math.floor(updatedAt / 1000),
    last_error: lastError && {
      message: lastError.message,
      source: lastError.source,
      at: Math.floor(lastError.at / 1000),
    },
  };
};

export function routeAdminRoutes(routing: Routing): Hono {
  const list = () => ({ object: "list", data: routing.list(), config: wireStatus(routing) });
  return new Hono()
    .get("/loom/v1/routes", (c) => c.json(list()))
    .get("/loom/v1/routes/:name", (c) => {
      const route = routing.list().find((r) => r.name === c.req.param("name"));
      if (!route)
        throw new ApiError(404, `no route named '${c.req.param("name")}'`, { param: "name", code: "route_not_found" });
      return c.json(route);
    })
    .put("/loom/v1/routes", async (c) => {
      const bytes = await readBody(c);
      const yaml = /yaml/i.test(c.req.header("content-type") ?? "");
      routing.replace(yaml ? new TextDecoder().decode(bytes) : parseJson(bytes), "admin API");
      return c.json(list());
    });
}
