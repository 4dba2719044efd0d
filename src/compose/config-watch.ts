// Watches the --config file and puts its routes in force when it changes. The folder is watched rather than the
// file, since editors and `kubectl`-mounted ConfigMaps replace a file instead of writing it in place. A change that
// does not parse, or whose routes name models that are not served, is refused with the reason (log, metrics of the
// admin API's status) and the routes in force stay. Models and server options are read at start only: a change to
// them is logged as not applied (the repository API loads and unloads models at run time).
import { type FSWatcher, watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { ConfigError } from "../config.js";
import type { Logger } from "../ops/logger.js";
import { RouteConfigError } from "../routing/config.js";
import type { Routing } from "../routing/routing.js";
import { type ConfigFile, parseConfigFile } from "./config-file.js";

/** Changes closer together than this are read once (an editor's save is often several events). */
const SETTLE_MS = 100;

export function watchConfigFile(initial: ConfigFile, routing: Routing, logger: Logger): () => void {
  const { path } = initial;
  let last = initial.text;
  let timer: NodeJS.Timeout | undefined;
  const startup = JSON.stringify({ models: initial.models, server: initial.server });
  const reload = async () => {
    let next: string;
    try {
      next = await readFile(path, "utf8");
    } catch {
      return; // Replaced in two steps (removed, then written): the second event reads it.
    }
    if (next === last) return;
    last = next;
    try {
      const file = parseConfigFile(next, path);
      routing.replace(file.routes, path);
      if (JSON.stringify({ models: file.models, server: file.server }) !== startup)
        logger.log("warn", "config_not_applied", {
          path,
          message: "models and server options are read at start; use the repository API or restart to apply them",
        });
    } catch (error) {
      if (error instanceof ConfigError) routing.refused(error.message, path);
      else if (!(error instanceof RouteConfigError))
        logger.log("error", "config_reload_failed", { path, message: String(error) });
    }
  };
  const watcher: FSWatcher = watch(dirname(path), (_event, name) => {
    if (name !== basename(path)) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), SETTLE_MS);
  });
  watcher.on("error", (error) => logger.log("error", "config_watch_failed", { path, message: error.message }));
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
