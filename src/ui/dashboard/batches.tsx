// Batch API jobs (OpenAI's GET /v1/batches, shown only when the server lists the `batches` capability), newest
// first, with their progress.
import { usePoll } from "../lib/poll.js";

interface Batch {
  readonly id: string;
  readonly status: string;
  readonly endpoint: string;
  readonly created_at: number;
  readonly request_counts?: { readonly total: number; readonly completed: number; readonly failed: number };
}

const BATCHES_REFRESH_MS = 2000;

export function Batches() {
  const batches = usePoll<{ data: Batch[] }>("/v1/batches?limit=20", BATCHES_REFRESH_MS);
  return (
    <section aria-labelledby="batches-title">
      <div class="section-head">
        <h2 id="batches-title">Batches</h2>
      </div>
      {batches.error !== null && <p class="error">{batches.error}</p>}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Batch</th>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {(batches.data?.data ?? []).map((b) => {
              const counts = b.request_counts;
              const done = counts ? counts.completed + counts.failed : 0;
              return (
                <tr key={b.id}>
                  <td class="mono">{b.id}</td>
                  <td class="mono">{b.endpoint}</td>
                  <td>
                    <span class={`badge ${b.status}`}>{b.status}</span>
                  </td>
                  <td>
                    {counts && counts.total > 0 ? (
                      <>
                        <progress max={counts.total} value={done} /> {done}/{counts.total}
                        {counts.failed > 0 ? `, ${counts.failed} failed` : ""}
                      </>
                    ) : (
                      "–"
                    )}
                  </td>
                  <td>{new Date(b.created_at * 1000).toLocaleString()}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
