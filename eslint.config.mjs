// ESLint for the agent: a short list of rules, each for a kind of bug that matters in code running
// inside someone else's process. No preset is enabled wholesale: a rule earns its place here by
// catching real bugs. Formatting is Prettier's business (npm run lint runs both).
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// The TypeScript: everything tsconfig.test.json type-checks (tsconfig.json's src/ and
// instrumentations/, plus test/).
const TYPESCRIPT = ['src/**/*.ts', 'instrumentations/**/*.ts', 'test/**/*.ts'];

// The plain JavaScript that belongs to the repository's tooling: the preload entries, the bundler,
// the benchmark and compatibility runners, the tests' shared schema, this file. No tsconfig covers
// them: the project service type-checks them as loose files (so the promise rules still see types),
// matched by globs that take no `**`, hence one per folder depth.
const JAVASCRIPT = ['register.mjs', 'register.cjs', 'eslint.config.mjs', 'scripts/**/*.mjs', 'test/**/*.mjs'];
const JAVASCRIPT_LOOSE_FILES = ['*.mjs', '*.cjs', 'scripts/*.mjs', 'test/*/*.mjs', 'test/*/*/*.mjs'];

export default defineConfig(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'test/bench/.work/**',
      // Stand-ins for users' applications and packages, written the way users write them (a
      // top-level async call left floating: a rejection crashes the fixture, and the test sees
      // it); the examples likewise show user code, not the agent's.
      'test/e2e/fixtures/**',
      'examples/**',
    ],
  },
  {
    files: [...TYPESCRIPT, ...JAVASCRIPT],
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits or handles: a rejection the agent let loose becomes the host
      // application's unhandled rejection (and, by default, its crash). Where a promise is left
      // running on purpose, `void` says so.
      '@typescript-eslint/no-floating-promises': 'error',
      // A promise where a callback's result is ignored (an async event listener, an async function
      // passed as a condition): its rejection goes nowhere. checksVoidReturn stays on, event
      // handlers included: an async 'exit'/'beforeExit'/'response' listener is exactly the case
      // where the agent would lose a rejection into the host process.
      '@typescript-eslint/no-misused-promises': 'error',
      // Values computed and never used: dead code on the hot path, or a result forgotten.
      // Trailing parameters a signature needs but the body ignores are written _name; an unused
      // `catch (error)` binding is harmless and stays allowed.
      '@typescript-eslint/no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // An expression whose value is dropped (`a && b()` as a statement, a comparison with no
      // effect): usually a call or an assignment that was meant.
      '@typescript-eslint/no-unused-expressions': 'error',
    },
  },
  {
    files: TYPESCRIPT,
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `any` switches the type checker off where the agent meets other people's objects; say what
      // is known (unknown, a small interface) instead. Tests too: a test's `any` lets it drift from
      // the code it tests without the type checker noticing. The rare `any` that is right (an
      // untyped decoded message) carries a disable comment with its reason.
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: JAVASCRIPT,
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        projectService: {
          allowDefaultProject: JAVASCRIPT_LOOSE_FILES,
          // The default of 8 would refuse the benchmark's files (two dozen files: some ten seconds).
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 64,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
);
