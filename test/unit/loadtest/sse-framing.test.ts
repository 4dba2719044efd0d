// The loadtest reads other servers' streams as the SSE spec frames them: CRLF or CR line ends and multi-line data.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";
import { streamRequest } from "../../../loadtest/client.js";

const chunk = (content: string) => JSON.stringify({ choices: [{ delta: { content } }] });

it("parses CRLF-framed events, CR-framed events and data split over several lines", async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${chunk("Hel")}\r\n\r\n`);
    res.write(`: a comment\r\ndata: ${chunk("lo")}\r\r`);
    const multi = JSON.stringify({
      choices: [{ delta: { content: " world" } }],
      usage: { prompt_tokens: 3, completion_tokens: 3 },
    });
    res.write(`data: ${multi.slice(0, 20)}\ndata: ${multi.slice(20)}\n\n`);
    res.end("data: [DONE]\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const outcome = await streamRequest(
      { url: `http://127.0.0.1:${port}`, model: "m", endpoint: "chat", ignoreEos: false },
      [{ role: "user", content: "hi" }],
      4,
    );
    expect(outcome.text).toBe("Hello world");
    expect(outcome.outputTokens).toBe(3);
    expect(outcome.itlMs).toHaveLength(2);
  } finally {
    server.close();
  }
});
