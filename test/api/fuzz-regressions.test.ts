// Faults `npm run fuzz` found, each pinned as the whole kind of input that caused it: the server answers in the
// route's error shape and keeps serving.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function alive(): Promise<void> {
  const response = await fetch(`${server.url}/health/live`);
  expect(response.status).toBe(200);
}

describe("multipart uploads cut short", () => {
  const boundary = "----cut";
  const form =
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="other"; filename="a.txt"\r\n\r\nignored bytes\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n\r\n{"custom_id": "a"}\r\n` +
    `--${boundary}--\r\n`;
  // Inside the purpose field, inside the ignored file part, inside the file part, before the closing boundary.
  const cuts = [form.indexOf("batch") + 2, form.indexOf("ignored") + 3, form.indexOf("custom_id"), form.length - 8];
  for (const cut of cuts) {
    it(`answers 400 for a form that ends at byte ${cut} of ${form.length}`, async () => {
      const response = await fetch(`${server.url}/v1/files`, {
        method: "POST",
        headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
        body: form.slice(0, cut),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_upload");
      await alive();
    });
  }
});

describe("requests Node's HTTP parser refuses", () => {
  const cases = [
    ["/v1/models", (b: any) => expect(b.error.code).toBe("request_header_fields_too_large")],
    ["/v1/messages", (b: any) => expect(b).toMatchObject({ type: "error", error: { type: "invalid_request_error" } })],
    ["/v2/models/x", (b: any) => expect(typeof b.error).toBe("string")],
  ] as const;
  for (const [path, check] of cases) {
    it(`answers a request line over the header limit on ${path} with 431 in the route's shape`, async () => {
      const response = await fetch(`${server.url}${path}?q=${"x".repeat(20_000)}`);
      expect(response.status).toBe(431);
      check(await response.json());
      await alive();
    });
  }

  it("answers malformed HTTP with 400 in OpenAI's shape", async () => {
    const { port } = new URL(server.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port: Number(port) });
      let text = "";
      socket.on("data", (chunk) => (text += chunk.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
      socket.end("GET /v1/models HTTP/1.1\r\nhost: x\r\nbad header line\r\n\r\n");
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "malformed_request" });
    await alive();
  });
});
