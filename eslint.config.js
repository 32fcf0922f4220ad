// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * The layers of src/ (docs/architecture.md §4), top to bottom: each folder may import only the
 * folders it lists here (and itself). `env.ts` and `errors.ts` are the shared vocabulary any
 * layer may import; they themselves import types only.
 */
const MAY_IMPORT = {
  routes: ['operations', 'http', 'audit', 'keys', 'exa', 'db', 'lib', 'ui'],
  http: ['keys', 'audit', 'db', 'lib', 'ui'],
  operations: ['exa', 'audit', 'db', 'lib'],
  audit: ['exa', 'db', 'lib'],
  keys: ['db', 'lib'],
  exa: ['lib'],
  db: ['lib'],
  ui: [],
  lib: [],
}
const FOLDERS = Object.keys(MAY_IMPORT)
const TOP = ['app', 'index']

/** A rule for one folder: importing from any folder it may not import (or from the entry) is an error. */
function layerRule(folder) {
  const refused = [...FOLDERS.filter((other) => other !== folder && !MAY_IMPORT[folder].includes(other)), ...TOP]
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^\\.\\./(${refused.join('|')})(/|$)`,
              message: `src/${folder}/ may import only ${MAY_IMPORT[folder].join(', ') || 'nothing else in src/ but env and errors'} (docs/architecture.md §4)`,
            },
          ],
        },
      ],
    },
  }
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.wrangler/', 'worker-configuration.d.ts', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused names are errors, except the ones spelled as deliberately unused.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Ambient declarations (global namespaces) can only name other modules' types through import().
    files: ['**/*.d.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
  {
    // Test doubles and helpers read loosely typed JSON answers on purpose.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'simulator/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Runnable examples for Node: checked by TypeScript (tsconfig.node.json, checkJs), which knows Node's globals.
    files: ['examples/**/*.mjs'],
    rules: { 'no-undef': 'off' },
  },
  {
    // The viewer's script: checked by TypeScript (// @ts-check, tsconfig.ui.json), which knows the DOM.
    files: ['public/ui/app.js'],
    languageOptions: { sourceType: 'module' },
    rules: { 'no-undef': 'off' },
  },
  ...FOLDERS.map(layerRule),
  {
    files: ['src/env.ts', 'src/errors.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^\\./(${[...FOLDERS.filter((f) => f !== 'lib'), ...TOP].join('|')})(/|$)`,
              allowTypeImports: true,
              message:
                'env.ts and errors.ts are the shared vocabulary: they import types only (docs/architecture.md §4)',
            },
          ],
        },
      ],
    },
  }
)
