// Clients that stall: streamed completions whose clients stop reading (their sockets paused, so the kernel's
// buffers fill and the server's writes back up) and uploads that send their headers and a little of the body, then
// nothing. Everyone else must keep being served meanwhile, and once the stalled clients go away their sequences,
// KV blocks and descriptors must be freed.
import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { openFds, readCounters, waitIdle } from "../../common/counters.js";
import { startStack } from "../../common/stack.js";
import { chat, type Fault, SteadyTraffic } from "../fault.js";

const STALLED_STREAMS = 6;
const STALLED_UPLOADS = 2;

function rawRequest(url: string, head: string, body: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(head + body);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** A streamed completion of ~900 tokens whose client reads nothing. */
async function stalledStream(url: string): Promise<Socket> {
  const body = JSON.stringify({ model: "tiny", prompt: "Once", max_tokens: 900, ignore_eos: true, stream: true });
  const head = `POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const socket = await rawRequest(url, head, body);
  socket.pause();
  return socket;
}

/** A chat request that announces 4096 bytes of body and sends 10. */
function stalledUpload(url: string): Promise<Socket> {
  const head =
    "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n";
  return rawRequest(url, head, '{"model":"');
}

export const stalledSocket: Fault = {
  name: "stalled-socket",
  what: `${STALLED_STREAMS} streaming clients that stop reading and ${STALLED_UPLOADS} that stop sending mid-body`,
  expect:
    "other clients are served throughout; once the stalled clients leave, running sequences, KV blocks and " +
    "descriptors are back at idle",
  async run() {
    const problems: string[] = [];
    const server = await startStack({ extraArgs: ["--max-running", "8"] });
    try {
      await sleep(500);
      const baselineFds = openFds(server.pid).length;
      const stalled = [
        ...(await Promise.all(Array.from({ length: STALLED_STREAMS }, () => stalledStream(server.url)))),
        ...(await Promise.all(Array.from({ length: STALLED_UPLOADS }, () => stalledUpload(server.url)))),
      ];
      const started = Date.now();
      let slowestMs = 0;
      const traffic = new SteadyTraffic(async () => {
        const t = Date.now();
        const answer = await chat(server.url, "tiny");
        slowestMs = Math.max(slowestMs, Date.now() - t);
        return answer;
      });
      await sleep(8000);
      const { ok, failures } = await traffic.stop();
      for (const f of failures.slice(0, 5)) problems.push(`a request failed beside the stalled clients: ${f}`);
      if (ok === 0) problems.push("nothing was served beside the stalled clients");
      const stalledFor = Date.now() - started;
      // Whether the stalled streams were still generating when they left, or had been written out into buffers.
      const { running } = await readCounters(server.url, server.pid);
      for (const socket of stalled) socket.destroy();
      const leaks = await waitIdle(server.url, server.pid, baselineFds, 30_000);
      for (const leak of leaks) problems.push(`after the stalled clients left: ${leak}`);
      return {
        problems,
        figures: { served_beside: ok, slowest_ms: slowestMs, stalled_ms: stalledFor, running_when_left: running },
      };
    } finally {
      await server.stop();
    }
  },
};
