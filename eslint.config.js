// @ts-check
/**
 * Lint, with the layer table (README, "Layout") enforced as import zones: each folder of src/ imports
 * only the layers below it. core and onnx also may not touch the DOM, timers or the network.
 * Formatting is Prettier's (.prettierrc.json), checked here as a lint rule.
 */
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import reactHooks from 'eslint-plugin-react-hooks';
import prettierRecommended from 'eslint-plugin-prettier/recommended';

const LAYERS = ['core', 'onnx', 'data', 'runtime', 'state', 'ui', 'lab', 'cli'];
/** What each layer may NOT import (the README's layer table). */
const FORBIDDEN = {
  core: ['onnx', 'data', 'runtime', 'state', 'ui', 'lab', 'cli'],
  onnx: ['data', 'runtime', 'state', 'ui', 'lab', 'cli'],
  data: ['runtime', 'state', 'ui', 'lab', 'cli'],
  runtime: ['state', 'ui', 'lab', 'cli'],
  state: ['ui', 'lab', 'cli'],
  ui: ['runtime', 'lab', 'cli'],
  lab: ['runtime', 'cli'],
  cli: ['state', 'ui', 'lab'],
};

const zones = Object.entries(FORBIDDEN).flatMap(([layer, banned]) =>
  banned.map((b) => ({
    target: `./src/${layer}`,
    from: `./src/${b}`,
    message: `src/${layer} may not import src/${b}: imports point down the layer table (core < onnx < data < runtime < state < ui/lab; cli over core, onnx, data, runtime).`,
  })),
);

const PURE_GLOBALS = [
  'window',
  'document',
  'navigator',
  'fetch',
  'XMLHttpRequest',
  'localStorage',
  'setTimeout',
  'setInterval',
  'requestAnimationFrame',
  'self',
  'Worker',
].map((name) => ({ name, message: 'core, onnx and data are pure: no DOM, timer or network globals.' }));

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-cli/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
      '.scratch/**',
      'test/fixtures/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'] })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['src/ui/**/*.tsx', 'src/lab/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
  prettierRecommended,
  {
    files: ['src/core/**/*.ts', 'src/onnx/**/*.ts', 'src/data/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...PURE_GLOBALS],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['react', 'react-*', 'onnxruntime-*', 'zustand', 'recharts'],
              message: 'core, onnx and data import no UI or runtime library.',
            },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['onnxruntime-*'],
              message: 'the command line reaches onnxruntime through src/runtime (ortNode.ts).',
            },
          ],
        },
      ],
    },
  },
);

export { LAYERS };
