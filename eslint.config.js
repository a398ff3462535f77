// Lint: typescript-eslint's recommended rules plus the promise rules that need types
// (`npm run lint`; .ci/run runs it). The type-aware rules read the same programs as tsc: the
// server side and its tests through tsconfig.test.json, the web UI through web/tsconfig.json.
// `npm run lint` keeps a cache in node_modules/.cache/eslint (a file is linted again when it or the
// config changes; after changing a type that other files rely on, `npx eslint .` checks them all).
// CI starts from `npm ci`, so without a cache.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // drizzle-kit's configs belong to no tsconfig program; fixtures are data; .js files are linted without types
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tap/**',
      'shared/api/buildomat.d.ts',
      '**/fixtures/**',
      '**/drizzle.config.ts',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: ['./tsconfig.test.json', './web/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // tap runs its subtests (t.test) and asynchronous asserts itself: not awaiting them is the idiom.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // `_name` marks what a destructuring leaves out on purpose
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // a variable read by callbacks that may run before it is assigned stays `let`
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // a control character in a pattern is usually a mistake; the few that mean it say so in place
      'no-control-regex': 'error',
    },
  },
  {
    // a test reads JSON bodies and checks them with assertions, not with types, and checks the
    // terminal escapes the CLI writes with patterns that name them
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-control-regex': 'off' },
  },
  {
    // CommonJS on purpose (the agent bundle's loader): require is how it imports
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
