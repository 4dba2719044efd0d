// The dashboard page: live numbers, running requests, models, and the routes and batches sections when the server
// reports those capabilities (GET /loom/v1/capabilities).
import type { Theme } from "../lib/theme.js";
import { Batches } from "./batches.js";
import { Live } from "./live.js";
import { Models } from "./models.js";
import { RequestsTable } from "./requests-table.js";
import { Routes } from "./routes.js";

interface DashboardProps {
  readonly capabilities: readonly string[];
  /** The stats stream's sampling interval (the page's `interval_ms` parameter; 1 s by default). */
  readonly intervalMs: number;
  readonly theme: Theme;
}

export function Dashboard({ capabilities, intervalMs, theme }: DashboardProps) {
  const has = (name: string) => capabilities.includes(name);
  const pollMs = Math.min(Math.max(intervalMs, 250), 1000);
  return (
    <div class="dashboard">
      {has("stats_stream") && <Live intervalMs={intervalMs} theme={theme} />}
      {has("requests") && <RequestsTable intervalMs={pollMs} />}
      <Models />
      {has("routes") && <Routes />}
      {has("batches") && <Batches />}
    </div>
  );
}
