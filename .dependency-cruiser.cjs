// The layer table of ../shared/DESIGN.md as import rules: arrows point one way (api -> routing -> serving -> engine
// -> scheduler -> kv; backend below the engine; ops and the two leaf modules beside everything). A layer may skip
// downward, never import upward. `npm run lint` runs this.
const layer = (name) => `^src/${name}/`;
const ours = "^src/";
const leaves = "^src/(config|config-decoding|config-jobs|config-routing|sampling-params)\\.ts$";

/** `from` may import nothing of ours outside `allowed` (regexes of paths). */
const only = (name, from, allowed, comment) => ({
  name,
  comment,
  severity: "error",
  from: { path: from },
  to: { path: ours, pathNot: allowed },
});

module.exports = {
  forbidden: [
    only("kv-is-pure", layer("kv"), [layer("kv")], "kv/ imports nothing of ours (DESIGN: kv needs nothing below it)"),
    only(
      "scheduler-is-pure",
      layer("scheduler"),
      [layer("scheduler"), layer("kv"), "^src/backend/types\\.ts$", leaves],
      "scheduler/ imports kv/, backend types and the leaves only: no I/O, no ops",
    ),
    only(
      "engine-below-serving",
      layer("engine"),
      [layer("engine"), layer("scheduler"), layer("kv"), layer("backend"), layer("ops"), leaves],
      "engine/ imports scheduler, kv, backend, ops and the leaves",
    ),
    only(
      "backend-below-engine",
      layer("backend"),
      [layer("backend"), leaves],
      "backend/ wraps native code and imports only the leaves",
    ),
    only("ops-is-a-leaf-service", layer("ops"), [layer("ops"), leaves], "ops/ imports nothing above it"),
    only(
      "leaves-are-leaves",
      leaves,
      [leaves],
      "config.ts, its option blocks and sampling-params.ts import only each other",
    ),
    only(
      "serving-below-api",
      layer("serving"),
      [
        layer("serving"),
        layer("engine"),
        layer("scheduler"),
        layer("kv"),
        layer("backend"),
        layer("ops"),
        layer("cache"),
        leaves,
      ],
      "serving/ never imports api, routing, jobs, the router, the UI or the composition root",
    ),
    only("cache-below-serving", layer("cache"), [layer("cache"), layer("ops"), leaves], "cache/ imports ops only"),
    only(
      "routing-below-api",
      layer("routing"),
      [layer("routing"), layer("serving"), layer("cache"), layer("engine"), layer("ops"), leaves],
      "routing/ imports serving, cache and ops",
    ),
    only(
      "jobs-through-routing",
      layer("jobs"),
      [layer("jobs"), layer("routing"), layer("serving"), layer("cache"), layer("ops"), leaves],
      "jobs/ run through routing like HTTP requests",
    ),
    only(
      "router-is-its-own-process",
      layer("router"),
      [layer("router"), "^src/api/openai/schemas\\.ts$", "^src/api/errors\\.ts$", layer("ops"), leaves],
      "the router process uses the API's wire types and ops only",
    ),
    only("ui-runs-in-the-browser", layer("ui"), [layer("ui")], "the UI imports nothing of the server"),
    {
      name: "api-not-composition",
      severity: "error",
      comment: "only main.ts and tests reach the composition root",
      from: { path: ours, pathNot: ["^src/main\\.ts$", layer("compose")] },
      to: { path: layer("compose") },
    },
    {
      name: "no-circular",
      severity: "error",
      from: { path: ours },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^(node_modules|native/build|dist)" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      extensions: [".ts", ".js", ".mjs"],
    },
  },
};
