// Routes (GET /loom/v1/routes, shown only when the server lists the `routes` capability): each requested name, its
// policy, and its targets with their weights and circuit-breaker states. Fields the server leaves out show as "–".
import { usePoll } from "../lib/poll.js";

/** The shape this section reads; routing answers GET /loom/v1/routes with `{ data: RouteInfo[] }`. */
interface RouteInfo {
  readonly name: string;
  readonly policy?: string;
  readonly targets: readonly {
    readonly target: string;
    /** Share of traffic, 0 to 1. */
    readonly weight?: number;
    readonly breaker?: "closed" | "open" | "half_open";
  }[];
}

const ROUTES_REFRESH_MS = 2000;

export function Routes() {
  const routes = usePoll<{ data: RouteInfo[] }>("/loom/v1/routes", ROUTES_REFRESH_MS);
  return (
    <section aria-labelledby="routes-title">
      <div class="section-head">
        <h2 id="routes-title">Routes</h2>
      </div>
      {routes.error !== null && <p class="error">{routes.error}</p>}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Route</th>
              <th scope="col">Policy</th>
              <th scope="col">Target</th>
              <th scope="col">Weight</th>
              <th scope="col">Breaker</th>
            </tr>
          </thead>
          <tbody>
            {(routes.data?.data ?? []).flatMap((route) =>
              route.targets.map((t, i) => (
                <tr key={`${route.name}\n${t.target}`}>
                  <td class="mono">{i === 0 ? route.name : ""}</td>
                  <td>{i === 0 ? (route.policy ?? "–") : ""}</td>
                  <td class="mono">{t.target}</td>
                  <td>
                    {t.weight === undefined ? (
                      "–"
                    ) : (
                      <meter min={0} max={1} value={t.weight} title={`${(t.weight * 100).toFixed(0)} %`}>
                        {(t.weight * 100).toFixed(0)} %
                      </meter>
                    )}
                  </td>
                  <td>{t.breaker ? <span class={`badge ${t.breaker}`}>{t.breaker.replace("_", " ")}</span> : "–"}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
