// Loom's admin API for routes (the config file's `routes:` at run time) and for the LLM repository (Triton's
// repository extension in Loom's own paths), with the schemas their handlers parse.
import { z } from "zod";
import { RouteList } from "../../routing/config.js";
import { VersionBody } from "../admin/llm-repository.js";
import { ANSWERS, type ApiRoute } from "./route-table.js";

const admin = (route: Omit<ApiRoute, "tag">): ApiRoute => ({ tag: "Loom", ...route });

/** PUT /loom/v1/routes in JSON; the same list in YAML (Content-Type application/yaml) is taken too. */
const RoutesUpdate = z.object({ routes: RouteList });

export const ADMIN_ROUTES: readonly ApiRoute[] = [
  admin({
    method: "get",
    path: "/loom/v1/routes",
    summary: "The routes in force, their targets' weights and breaker states, and where they came from",
    access: "api-key",
    response: ANSWERS.json("{object: list, data, config}"),
  }),
  admin({
    method: "get",
    path: "/loom/v1/routes/{name}",
    summary: "One route",
    access: "api-key",
    response: ANSWERS.json("a route object"),
  }),
  admin({
    method: "put",
    path: "/loom/v1/routes",
    summary: "Replaces the routes (JSON, or YAML as the config file's routes: section); a bad set is refused whole",
    access: "admin-key",
    body: { name: "RoutesUpdate", schema: RoutesUpdate },
    response: ANSWERS.json("{object: list, data, config}"),
  }),
  admin({
    method: "get",
    path: "/loom/v1/repository",
    summary: "Every LLM version (READY, LOADING, DRAINING or UNAVAILABLE with the reason) and the memory budget",
    access: "api-key",
    response: ANSWERS.json("{object: list, data, memory}"),
  }),
  admin({
    method: "post",
    path: "/loom/v1/repository/models/{name}/load",
    summary: "Loads a version of an LLM (the newest without one) or reloads a loaded one",
    access: "admin-key",
    body: { name: "VersionBody", schema: VersionBody },
    response: ANSWERS.json("{model, state: READY}"),
  }),
  admin({
    method: "post",
    path: "/loom/v1/repository/models/{name}/unload",
    summary: "Drains and frees one version of an LLM, or all of them",
    access: "admin-key",
    body: { name: "VersionBody", schema: VersionBody },
    response: ANSWERS.json("{unloaded}"),
  }),
];
