// The playground in a real headless Chromium against a real server over stories260K (a trained tiny llama, so the
// reply reads as text): a prompt is sent with the keyboard, the streamed reply renders with its timings, token
// count and log-probability heat map, the curl command matches the request, and a refused request says why.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, type Browser, launchBrowser } from "../helpers/browser.js";
import { STORIES_260K, sharedModel } from "../helpers/models.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  server = await startTestServer({ model: sharedModel(STORIES_260K), kvTokens: 2048 });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("playground", () => {
  it("streams a reply with its TTFT, tokens/s, token count and heat map, and shows the request as curl", async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${server.url}/#/playground`);
    await expect.poll(() => page.locator("#pg-model").inputValue()).toBe(server.model);
    await page.getByLabel("System prompt").fill("You tell short stories.");
    await page.getByLabel("Max tokens").fill("40");
    await page.getByLabel("Seed").fill("7");
    await page.getByLabel("Log-probabilities heat map").check();
    await page.getByLabel("Alternatives").fill("2");
    await page.getByLabel("Message").fill("Once upon a time");
    await page.getByLabel("Message").press("Enter");

    const reply = page.locator(".turn.assistant:not(.pending)");
    await reply.waitFor();
    expect(await page.locator(".turn.user .content").textContent()).toBe("Once upon a time");
    expect((await reply.locator(".content").textContent())!.trim()).not.toBe("");
    const stats = await reply.locator(".reply-stats").textContent();
    expect(stats).toMatch(/^TTFT \d+ ms · \d+\.\d tokens\/s · 40 tokens · finish: length$/);
    expect(await reply.locator(".heatmap .token").count()).toBe(40);
    expect(await reply.locator(".heatmap .token").first().getAttribute("title")).toMatch(/: \d+\.\d %; top: /);
    const curl = await page.locator(".curl code").textContent();
    expect(curl).toContain(`curl -N ${server.url}/v1/chat/completions`);
    expect(curl).toContain(`"model":"${server.model}"`);
    expect(curl).toContain(`"max_tokens":40,"seed":7`);
    expect(curl).toContain(`"logprobs":true,"top_logprobs":2`);
    await page.screenshot({ path: join(ARTIFACTS, "playground.png"), fullPage: true });

    // A request the server refuses (past the context window) leaves no turn and puts the prompt back.
    await page.getByLabel("Max tokens").fill("100000");
    await page.getByLabel("Message").fill("A very long story");
    await page.getByRole("button", { name: "Send" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^The server refused the request: 400 context_length_exceeded: /);
    expect(await page.getByLabel("Message").inputValue()).toBe("A very long story");
    expect(await page.locator(".turn").count()).toBe(2);
    expect(errors).toEqual([]);
    await page.close();
  });
});
