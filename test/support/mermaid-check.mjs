// Parses mermaid diagrams with mermaid's own grammars (the jison parsers and diagram databases of
// the gantt and xychart diagrams), headless. @mermaid-js/parser covers neither diagram type, and
// mermaid.parse() needs a DOM for DOMPurify, which sanitizes titles; without a DOM the text passes
// unchanged, which is all a syntax check needs.
// stdin: JSON [{ "text": "gantt\n..." }, ...]; stdout: JSON [{ "ok": true } | { "ok": false, "error": "..." }].
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const purify = (await import('dompurify')).default;
Object.assign(purify, { addHook() {}, removeHook() {}, removeHooks() {}, sanitize: (s) => String(s) });

const chunks = join(dirname(require.resolve('mermaid/package.json')), 'dist/chunks/mermaid.core');
const load = async (prefix) => {
  const file = readdirSync(chunks).find((f) => f.startsWith(`${prefix}-`) && f.endsWith('.mjs'));
  if (!file) throw new Error(`mermaid has no ${prefix} chunk in ${chunks}`);
  return (await import(pathToFileURL(join(chunks, file)).href)).diagram;
};
const diagrams = { gantt: await load('ganttDiagram'), 'xychart-beta': await load('xychartDiagram') };

let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map(({ text }) => {
  const type = text.trimStart().split(/\s/, 1)[0];
  const diagram = diagrams[type];
  if (!diagram) return { ok: false, error: `not a diagram type this check knows: ${type}` };
  diagram.db.clear?.();
  diagram.parser.yy = diagram.db;
  try {
    diagram.parser.parse(text);
    // The gantt database parses each task's dates only when asked: ask, so a bad date fails here.
    diagram.db.getTasks?.();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: String(err.message ?? err).split('\n').slice(0, 3).join(' ') };
  }
});
process.stdout.write(JSON.stringify(results));
