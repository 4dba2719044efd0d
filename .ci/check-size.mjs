#!/usr/bin/env node
// The size rules Biome cannot enforce in src/: no file over 300 lines, no line over 120 characters (Biome wraps
// code at 120 but leaves long strings and comments alone).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const MAX_FILE_LINES = 300;
const MAX_LINE_CHARS = 120;
const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "src"], {
  encoding: "utf8",
})
  .split("\n")
  .filter((f) => /\.(ts|tsx|mjs|js|css)$/.test(f));
const problems = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    continue; // deleted in the work tree, still in the index
  }
  const lines = text.split("\n");
  if (lines.length > MAX_FILE_LINES) {
    problems.push(`${file}: ${lines.length} lines (at most ${MAX_FILE_LINES}: split it by responsibility)`);
  }
  lines.forEach((line, i) => {
    if (line.length > MAX_LINE_CHARS)
      problems.push(`${file}:${i + 1}: ${line.length} characters (at most ${MAX_LINE_CHARS})`);
  });
}
for (const problem of problems) console.error(problem);
if (problems.length > 0) process.exit(1);
console.log(`check-size: ${files.length} files of src/ within ${MAX_FILE_LINES} lines and ${MAX_LINE_CHARS} columns`);
