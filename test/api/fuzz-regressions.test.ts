// Faults `npm run fuzz` found, each pinned as the whole kind of input that caused it: the server answers in the
// route's error shape and keeps serving.
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
