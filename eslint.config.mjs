import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

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
);
