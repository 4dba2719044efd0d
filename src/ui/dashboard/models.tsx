// Models the server serves, with their adapters; the version column appears when the server sends versions.
import { useModels } from "../lib/models.js";

export function Models() {
  const models = useModels();
  const cards = models.data?.data ?? [];
  const versions = cards.some((m) => m.version !== undefined);
  return (
    <section aria-labelledby="models-title">
      <div class="section-head">
        <h2 id="models-title">Models</h2>
      </div>
      {models.error !== null && <p class="error">{models.error}</p>}
      <div class="scroll">
        <table class="models">
          <thead>
            <tr>
              <th scope="col">Model</th>
              {versions && <th scope="col">Version</th>}
              <th scope="col">Kind</th>
              <th scope="col">Source</th>
              <th scope="col" class="num">
                Context
              </th>
              <th scope="col">Loaded</th>
            </tr>
          </thead>
          <tbody>
            {cards.map((m) => (
              <tr key={m.id} data-model-id={m.id}>
                <td class="mono">{m.id}</td>
                {versions && <td>{m.version ?? "–"}</td>}
                <td>{m.parent ? `adapter of ${m.parent}` : "model"}</td>
                <td class="mono wrap">{m.parent ? (m.root ?? "–") : "–"}</td>
                <td class="num">{m.max_model_len ?? "–"}</td>
                <td>{new Date(m.created * 1000).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
