// The dashboard's routes section in a real headless Chromium against a server started from a config file: it shows
// because the server lists the `routes` capability, with each route's targets, weights and breaker states.
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ARTIFACTS, type Browser, launchBrowser } from "../helpers/browser.js";
import { type RoutingServer, startRoutingServer } from "../helpers/routing.js";

let server: RoutingServer;
let browser: Browser;
beforeAll(async () => {
  server = await startRoutingServer(`
kv_tokens: 1024
models:
  - { name: story }
  - { name: story, version: 2 }
routes:
  - name: assistant
    split: [{ target: story@1, weight: 90 }, { target: story@2, weight: 10 }]
    fallback: { target: story@1 }
`);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it("lists the routes with their targets, weights and breakers", async () => {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${server.url}/#/`);
  await page.getByRole("heading", { name: "Routes" }).waitFor();
  const section = page.locator("section", { has: page.getByRole("heading", { name: "Routes" }) });
  const rows = section.locator("tbody tr");
  await rows.nth(2).waitFor();
  const cells = async (i: number) => (await rows.nth(i).locator("td").allTextContents()).map((t) => t.trim());
  expect(await cells(0)).toEqual(["assistant", "split", "story@1", "90 %", "closed"]);
  expect(await cells(1)).toEqual(["", "", "story@2", "10 %", "closed"]);
  expect(await cells(2)).toEqual(["", "", "story@1", "–", "–"]);
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-routes.png"), fullPage: true });
  expect(errors).toEqual([]);
});
