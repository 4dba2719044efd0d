// A real headless Chromium (Debian's package at /usr/bin/chromium) driven by playwright-core, with a fresh profile
// per launch, and the folder screenshots go to.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { repoRoot } from "./models.js";

const CHROMIUM = "/usr/bin/chromium";

/** test-artifacts/ of the checkout (git-ignored): screenshots of the pages the browser tests saw. */
export const ARTIFACTS = join(repoRoot, "test-artifacts");

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Throws (never skips) when Chromium is not installed: CI installs it with apt-get. */
export async function launchBrowser(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), "loom-chromium-"));
  // A persistent context is how playwright takes a profile folder of our own (launch() refuses --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
