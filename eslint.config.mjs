// ESLint for the agent's TypeScript: a short list of rules, each for a kind of bug that matters in
// code running inside someone else's process. Formatting is Prettier's business (npm run lint
// runs both).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/bench/**/*.mjs', 'test/compat/**', 'examples/**', '**/*.cjs', '**/*.mjs'] },
  {
    files: ['src/**/*.ts', 'instrumentations/**/*.ts', 'test/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits or handles: a rejection the agent let loose becomes the host
      // application's unhandled rejection (and, by default, its crash).
      '@typescript-eslint/no-floating-promises': 'error',
      // A promise where a callback's result is ignored (an async event listener, an async
      // function passed as a condition): its rejection goes nowhere.
      '@typescript-eslint/no-misused-promises': 'error',
      // Values computed and never used: dead code on the hot path, or a result forgotten.
      '@typescript-eslint/no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-unused-expressions': 'error',
      // `any` switches the type checker off where the agent meets other people's objects; say
      // what is known (unknown, a small interface) instead.
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
);
