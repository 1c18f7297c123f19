import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

// Boundaries: who may import whom (docs/architecture.md, "The parts"; each libs/*/README.md says the
// same for its library). A wrong import fails `npm run lint`; test/lint/boundaries.spec.ts proves
// each rule on a wrong and a right import. test/ may import everything.

/** Each library and the libraries it may import. */
const LIBS = {
  domain: [],
  diagnosis: ['domain'],
  // The `diagnose` built-in action wraps the (pure) diagnosis.
  runbooks: ['domain', 'diagnosis'],
  rca: ['domain'],
  slack: ['domain'],
  aws: ['domain'],
  store: ['domain'],
};
/** Packages a library may not import: the pure ones take no SDK, Nest, Redis or queue; only the adapters talk to AWS, Slack or Redis. */
const INFRA = ['@nestjs', 'ioredis', 'bullmq', '@aws-sdk', '@smithy', '@slack'];
const LIB_PACKAGES_DENIED = {
  domain: INFRA,
  diagnosis: INFRA,
  runbooks: INFRA,
  rca: INFRA,
  slack: ['@nestjs', 'ioredis', 'bullmq', '@aws-sdk', '@smithy'],
  aws: ['@nestjs', 'ioredis', 'bullmq', '@slack'],
  store: ['@nestjs', 'bullmq', '@aws-sdk', '@smithy', '@slack'],
};
/** Feature folders of apps/responder/src: another folder reaches one only through its index.ts (`../engine`), never a file inside. */
const FEATURES = ['engine', 'intake', 'incidents', 'runbooks', 'slack', 'health'];

const either = (names) => `(${names.join('|')})`;
const esc = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function libRules(lib, { spec }) {
  const others = Object.keys(LIBS).filter((l) => l !== lib && !LIBS[lib].includes(l));
  const may = LIBS[lib].length > 0 ? LIBS[lib].map((l) => `libs/${l}`).join(', ') : 'no other library';
  const patterns = [
    { regex: `^@responder/${either(others)}(/|$)`, message: `libs/${lib} may import ${may} (docs/architecture.md, libs/${lib}/README.md).` },
    { regex: `^(\\.\\./)+${either(Object.keys(LIBS))}/src(/|$)`, message: `libs/${lib}: import another library by its name (@responder/…), and only those it may import.` },
    { regex: '^(\\.\\./)+apps/', message: 'A library never imports an app.' },
    { regex: `^${either(LIB_PACKAGES_DENIED[lib].map(esc))}(/|$)`, message: `libs/${lib} takes none of ${LIB_PACKAGES_DENIED[lib].join(', ')} (libs/${lib}/README.md).` },
  ];
  if (!spec) patterns.push({ regex: '^(\\.\\./)+test/', message: 'Only specs import test/ (fixtures and stand-ins live there).' });
  return { 'no-restricted-imports': ['error', { patterns }] };
}

const featureInternals = (features) => ({
  regex: `^(\\./|(\\.\\./)+)${either(features)}/`,
  message: 'Features of apps/responder meet through the change feed, a small application service, or the other folder\'s index.ts (`../engine`), not its files.',
});
const noOtherApp = (app) => ({ regex: `^(\\.\\./)+(apps/)?${app}/`, message: 'An app never imports another app.' });
const noLibInternals = { regex: `^(\\.\\./)+(libs/)?${either(Object.keys(LIBS))}/src(/|$)`, message: 'Import a library by its name (@responder/…).' };

const boundaries = [
  ...Object.keys(LIBS).flatMap((lib) => [
    { files: [`libs/${lib}/**/*.ts`], ignores: ['**/*.spec.ts'], rules: libRules(lib, { spec: false }) },
    { files: [`libs/${lib}/**/*.spec.ts`], rules: libRules(lib, { spec: true }) },
  ]),
  // A feature reaches another only through its index; nothing but a feature's own files imports inside it.
  ...FEATURES.map((feature) => ({
    files: [`apps/responder/src/${feature}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [featureInternals(FEATURES.filter((f) => f !== feature)), noOtherApp('cli'), noLibInternals] }] },
  })),
  // Shared folders (config, http, redis, metrics, rca, catalog) use no feature but through its index.
  {
    files: ['apps/responder/src/*/**/*.ts'],
    ignores: FEATURES.map((f) => `apps/responder/src/${f}/**`),
    rules: { 'no-restricted-imports': ['error', { patterns: [featureInternals(FEATURES), noOtherApp('cli'), noLibInternals] }] },
  },
  // The composition root (app.module.ts, create-app.ts, main.ts) wires the features' modules and
  // services together; the engine even it reaches through its index.
  {
    files: ['apps/responder/src/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [featureInternals(['engine']), noOtherApp('cli'), noLibInternals] }] },
  },
  { files: ['apps/cli/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [noOtherApp('responder'), noLibInternals] }] } },
];

export default tseslint.config(
  // infra/ is its own package with its own lint config (npm --prefix infra run lint).
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'infra/**', '*.js', '*.mjs', 'test/support/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  { files: ['bench/**/*.ts', 'scripts/**/*.ts', 'apps/cli/**/*.ts'], rules: { 'no-console': 'off' } },
  // One queue adapter: only apps/responder/src/queue/ talks to BullMQ (tests and benchmarks that
  // look at BullMQ itself, or measure it raw, are exempt).
  {
    files: ['**/*.ts'],
    ignores: ['apps/responder/src/queue/**', 'test/**', 'bench/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'bullmq', message: 'BullMQ is used through the queue adapter (apps/responder/src/queue): JobQueue, QueuedJob, jobId, PermanentJobError.' }], patterns: [{ group: ['bullmq/*'], message: 'BullMQ is used through the queue adapter (apps/responder/src/queue).' }] },
      ],
    },
  },
  ...boundaries,
);
