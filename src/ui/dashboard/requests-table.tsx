// Running requests (GET /loom/v1/requests), each with a cancel button (POST /loom/v1/requests/{id}/cancel, which
// needs the admin key when the server has one).
import { useState } from "preact/hooks";
import { postJson } from "../lib/api.js";
import { formatAge } from "../lib/format.js";
import { usePoll } from "../lib/poll.js";

interface InFlightRequest {
  readonly id: string;
  readonly model: string;
  readonly adapter: string | null;
  readonly age_seconds: number;
  readonly state: "waiting" | "running";
  readonly prompt_tokens: number;
  readonly output_tokens: number;
}

export function RequestsTable({ intervalMs }: { intervalMs: number }) {
  const requests = usePoll<{ data: InFlightRequest[] }>("/loom/v1/requests", intervalMs);
  const [note, setNote] = useState<{ text: string; failed: boolean } | null>(null);
  const cancel = async (id: string) => {
    try {
      await postJson(`/loom/v1/requests/${encodeURIComponent(id)}/cancel`, {});
      setNote({ text: `Cancelled ${id}.`, failed: false });
    } catch (error) {
      setNote({ text: `Could not cancel ${id}: ${(error as Error).message}`, failed: true });
    }
    requests.refresh();
  };
  const rows = requests.data?.data ?? [];
  return (
    <section aria-labelledby="requests-title">
      <div class="section-head">
        <h2 id="requests-title">Running requests</h2>
        <span class="badge">{rows.length}</span>
      </div>
      {requests.error !== null && <p class="error">{requests.error}</p>}
      <p role="status" class={note?.failed ? "error" : "hint"}>
        {note?.text ?? ""}
      </p>
      <div class="scroll">
        <table class="requests">
          <thead>
            <tr>
              <th scope="col">Request</th>
              <th scope="col">Model</th>
              <th scope="col">Adapter</th>
              <th scope="col">Age</th>
              <th scope="col" class="num">
                Prompt tokens
              </th>
              <th scope="col" class="num">
                Tokens so far
              </th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={8} class="hint">
                  No requests in flight.
                </td>
              </tr>
            )}
            {rows.map((r) => (
              <tr key={r.id} data-request-id={r.id}>
                <td class="mono" title={r.id}>
                  {r.id.length > 20 ? `${r.id.slice(0, 18)}…` : r.id}
                </td>
                <td>{r.model}</td>
                <td>{r.adapter ?? "–"}</td>
                <td>{formatAge(r.age_seconds)}</td>
                <td class="num">{r.prompt_tokens}</td>
                <td class="num" data-field="output_tokens">
                  {r.output_tokens}
                </td>
                <td>
                  <span class={`badge ${r.state}`}>{r.state}</span>
                </td>
                <td>
                  <button
                    type="button"
                    class="danger"
                    onClick={() => cancel(r.id)}
                    aria-label={`Cancel request ${r.id}`}
                  >
                    Cancel
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
