// The SSE wire format checked byte by byte with fetch, as an EventSource-style client parses it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function rawStream(body: Record<string, unknown>): Promise<{ response: Response; text: string }> {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: server.model, messages: [{ role: "user", content: "hi" }], stream: true, ...body }),
  });
  return { response, text: await response.text() };
}

describe("SSE framing", () => {
  it("sends `data: <json>` events separated by blank lines and ends with data: [DONE]", async () => {
    const { response, text } = await rawStream({ max_tokens: 4, temperature: 0 });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("x-request-id")).toBeTruthy();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const events = text.split("\n\n").filter((e) => e !== "");
    expect(events.at(-1)).toBe("data: [DONE]");
    for (const event of events.slice(0, -1)) {
      expect(event.startsWith("data: ")).toBe(true);
      expect(event.includes("\n")).toBe(false);
      expect(JSON.parse(event.slice("data: ".length)).object).toBe("chat.completion.chunk");
    }
  });

  it("never splits a multi-byte character across deltas, though its bytes come in separate tokens", async () => {
    // A 4-byte character outside the vocabulary is spelled by byte-fallback tokens; the schema forces it out.
    const clef = "\u{1D11E}";
    const { text } = await rawStream({
      max_tokens: 16,
      temperature: 0,
      logprobs: true,
      response_format: { type: "json_schema", json_schema: { name: "clef", schema: { const: clef } } },
    });
    const chunks = text
      .split("\n\n")
      .filter((e) => e.startsWith("data: {"))
      .map((e) => JSON.parse(e.slice(6)));
    const deltas = chunks.map((c) => c.choices[0]?.delta?.content).filter((d): d is string => typeof d === "string");
    expect(deltas.join("").trim()).toBe(JSON.stringify(clef));
    expect(deltas.some((d) => d.includes("\uFFFD"))).toBe(false);
    const tokenBytes: number[][] = chunks
      .flatMap((c) => c.choices[0]?.logprobs?.content ?? [])
      .map((t: { bytes: number[] }) => t.bytes);
    const partial = tokenBytes.filter((bytes) => bytes.length > 0 && bytes.every((b) => b >= 0x80));
    expect(partial.length).toBeGreaterThanOrEqual(2);
    expect(Buffer.from(partial.flat()).toString("utf8")).toBe(clef);
  });
});
