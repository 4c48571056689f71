import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'guest/**', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': ['error', {
        paths: [{ name: 'child_process', message: 'Spawn through shared/spawn.ts (argv arrays, accounted for).' },
                { name: 'node:child_process', importNames: ['exec', 'execSync'], message: 'No shell: use spawn with an argv array (shared/spawn.ts).' }],
      }],
      'no-restricted-syntax': ['error', {
        selector: "Property[key.name='shell'][value.value=true]",
        message: 'No shell: argv arrays only (DESIGN rule 5).',
      }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
