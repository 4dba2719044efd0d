// The web dashboard and playground (src/ui, bundled into dist/ui by src/ui/build.mjs when the package installs) at
// / and /ui, its hashed assets under /ui/assets/. Files are read once at startup: the bundle is small and fixed.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Context, Hono } from "hono";

/** dist/ui of the package: three levels up from src/api/ui and from dist/api/ui alike. */
const UI_DIR = fileURLToPath(new URL("../../../dist/ui/", import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

// Everything the page loads comes from this server; uPlot and Preact set inline styles through the DOM.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; " +
  "base-uri 'none'; frame-ancestors 'none'";

interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly type: string;
}

/** Throws, naming the fix, when the bundle was never built. */
export function uiRoutes(dir: string = UI_DIR): Hono {
  const indexPath = join(dir, "index.html");
  if (!existsSync(indexPath)) {
    throw new Error(
      `the web UI is not built (${indexPath} is missing): ` +
        "run 'npm run build:ui' (npm ci runs it), or start with --no-ui",
    );
  }
  const index = readFileSync(indexPath, "utf8");
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(join(dir, "assets"))) {
    const type = CONTENT_TYPES[extname(name)];
    if (type) assets.set(name, { body: new Uint8Array(readFileSync(join(dir, "assets", name))), type });
  }
  const page = (c: Context) =>
    c.html(index, 200, { "cache-control": "no-cache", "content-security-policy": CONTENT_SECURITY_POLICY });
  return new Hono()
    .get("/", page)
    .get("/ui", page)
    .get("/ui/", page)
    .get("/ui/assets/:name", (c) => {
      const asset = assets.get(c.req.param("name"));
      if (!asset) return c.notFound();
      // Asset names carry a content hash, so a browser may keep them for good.
      return c.body(asset.body, 200, {
        "content-type": asset.type,
        "cache-control": "public, max-age=31536000, immutable",
      });
    });
}
