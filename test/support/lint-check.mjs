// Lints texts as if they were files of the repository, with its eslint.config.mjs, in a child
// process: ESLint loads its flat config with import(), which jest's module system cannot run.
// Type information is left out (typescript-eslint's disableTypeChecked): the import rules read
// syntax only, and the texts are not files the TypeScript project knows.
// stdin: JSON [{ "filePath": "libs/slack/src/x.ts", "code": "import …" }, ...]
// stdout: JSON, per text, its problems: [[{ "ruleId": "no-restricted-imports", "severity": 2, "message": "…" }], ...]
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: [tseslint.configs.disableTypeChecked] });
const out = [];
for (const { filePath, code } of JSON.parse(input)) {
  const [result] = await eslint.lintText(code, { filePath, warnIgnored: true });
  out.push((result?.messages ?? []).map(({ ruleId, severity, message }) => ({ ruleId, severity, message })));
}
process.stdout.write(JSON.stringify(out));
