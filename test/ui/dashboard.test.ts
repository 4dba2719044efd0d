// The dashboard in a real headless Chromium against a real server under a small load: live charts fill, the
// running-requests table lists a live stream and its cancel button ends it; phone width and the dark theme hold.
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, type Browser, launchBrowser } from "../helpers/browser.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { startLoad, startStream } from "../helpers/streams.js";

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  server = await startTestServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  await page.goto(`${server.url}${path}`);
  return { page, errors };
}

describe("dashboard", () => {
  it("draws live charts under load and cancels a running request from the table", async () => {
    const { page, errors } = await open("/#/?interval_ms=200");
    const load = startLoad(server.url, server.model);
    try {
      await page.getByRole("heading", { name: "Live" }).waitFor();
      await page.waitForFunction(() => {
        const charts = [...document.querySelectorAll<HTMLElement>("figure.chart")];
        return charts.length === 7 && charts.every((c) => Number(c.dataset.points) >= 5 && c.querySelector("canvas"));
      });
      await page.waitForFunction(
        () => Number(document.querySelector('[data-metric="output_tokens_per_second"]')?.textContent) > 0,
      );
      await page.locator("tr[data-model-id]", { hasText: server.model }).waitFor();

      const stream = await startStream(server.url, server.model, { maxTokens: 3000 });
      const row = page.locator(`tr[data-request-id="${stream.id}"]`);
      await page.waitForFunction(
        (id) =>
          Number(document.querySelector(`tr[data-request-id="${id}"] [data-field="output_tokens"]`)?.textContent) > 0,
        stream.id,
      );
      expect(await row.locator(".badge").textContent()).toBe("running");
      await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });

      await row.getByRole("button", { name: `Cancel request ${stream.id}` }).click();
      expect(await stream.ended).toEqual({ finishReason: "abort", done: true });
      await row.waitFor({ state: "detached" });
      expect(await page.getByRole("status").filter({ hasText: "Cancelled" }).textContent()).toBe(
        `Cancelled ${stream.id}.`,
      );
    } finally {
      await load.stop();
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it("fits a phone's width and switches to the dark theme", async () => {
    const { page, errors } = await open("/#/?interval_ms=200");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLElement>("figure.chart")].every((c) => Number(c.dataset.points) >= 2),
    );
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const theme = page.getByRole("button", { name: /^Theme:/ });
    while ((await theme.textContent()) !== "Theme: dark") await theme.click();
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(18, 20, 23)");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-phone-dark.png") });
    expect(errors).toEqual([]);
    await page.close();
  });
});
