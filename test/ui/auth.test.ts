// The page against a server with --api-key and --admin-key, in a real headless Chromium: it asks for the key once
// per tab, says when the server refuses one, and asks for an admin key when a cancel needs it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchBrowser } from "../helpers/browser.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { startStream } from "../helpers/streams.js";

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  server = await startTestServer({ apiKeys: ["user-key"], adminKeys: ["admin-key"] });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("API keys in the page", () => {
  it("asks for the key once, refuses a wrong one, and asks for the admin key to cancel", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/`);
    const dialog = page.getByRole("dialog", { name: "API key" });
    await dialog.waitFor();
    await dialog.getByLabel("Key").fill("wrong-key");
    await dialog.getByLabel("Key").press("Enter");
    await dialog.getByRole("alert").filter({ hasText: "The server refused the key: Incorrect API key" }).waitFor();
    await dialog.getByLabel("Key").fill("user-key");
    await dialog.getByRole("button", { name: "Use key" }).click();
    await page.locator("tr[data-model-id]", { hasText: server.model }).waitFor();
    expect(await dialog.count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem("loom.apiKey"))).toBe("user-key");

    // The key lasts as long as the tab: a reload asks nothing.
    await page.reload();
    await page.locator("tr[data-model-id]", { hasText: server.model }).waitFor();
    expect(await dialog.count()).toBe(0);

    const stream = await startStream(server.url, server.model, {
      maxTokens: 3000,
      headers: { authorization: "Bearer user-key" },
    });
    const cancel = page.getByRole("button", { name: `Cancel request ${stream.id}` });
    await cancel.click();
    await dialog.waitFor();
    await dialog.getByLabel("Key").fill("admin-key");
    await dialog.getByLabel("Key").press("Enter");
    await cancel.click();
    expect(await stream.ended).toEqual({ finishReason: "abort", done: true });
    await page.close();
  });
});
