#!/usr/bin/env node
// Bundles the web UI (src/ui) into dist/ui with esbuild: index.html plus content-hashed JS and CSS in assets/, all
// from npm packages, so the server fetches nothing at run time. Runs in the package's install step, after the
// native addon, and from `npm run build:ui`; `--watch` rebuilds on every change while developing.
// Plain JavaScript on purpose: it runs during `npm ci`, like native/build.mjs.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const srcDir = dirname(fileURLToPath(import.meta.url));
const outDir = join(srcDir, "..", "..", "dist", "ui");
const assetsDir = join(outDir, "assets");
const watch = process.argv.includes("--watch");

/** index.html from its template, pointing at this build's hashed files. */
function writeIndex(metafile) {
  const files = Object.keys(metafile.outputs).map((path) => basename(path));
  const tags = [
    ...files.filter((f) => f.endsWith(".css")).map((f) => `<link rel="stylesheet" href="/ui/assets/${f}">`),
    ...files.filter((f) => f.endsWith(".js")).map((f) => `<script type="module" src="/ui/assets/${f}"></script>`),
  ];
  const template = readFileSync(join(srcDir, "index.html"), "utf8");
  if (!template.includes("<!-- assets -->")) throw new Error("src/ui/index.html lacks the <!-- assets --> marker");
  writeFileSync(join(outDir, "index.html"), template.replace("<!-- assets -->", tags.join("\n    ")));
}

const indexPlugin = {
  name: "index-html",
  setup(build) {
    build.onStart(() => {
      // Old hashed files would pile up otherwise.
      rmSync(outDir, { recursive: true, force: true });
      mkdirSync(assetsDir, { recursive: true });
    });
    build.onEnd((result) => {
      if (result.errors.length === 0) writeIndex(result.metafile);
    });
  },
};

const options = {
  entryPoints: [join(srcDir, "main.tsx")],
  tsconfig: join(srcDir, "tsconfig.json"),
  outdir: assetsDir,
  entryNames: "[name]-[hash]",
  bundle: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: !watch,
  sourcemap: "linked",
  metafile: true,
  logLevel: "warning",
  plugins: [indexPlugin],
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log(`loom ui: watching src/ui, writing ${outDir}`);
} else {
  try {
    await esbuild.build(options);
  } catch {
    console.error("loom ui build: failed (errors above)");
    process.exit(1);
  }
}
