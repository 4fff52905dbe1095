// Lint for the bugs types alone miss: unawaited promises above all (a dropped promise in
// the ingest path is lost data). Type-aware, zero warnings allowed (npm test runs it).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.vigil-tmp/**', 'data/**', 'bin/**', 'eslint.config.js', 'vitest.config.ts'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      'no-debugger': 'error',
    },
  },
);
