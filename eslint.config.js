import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'lib/**', 'node_modules/**', 'example/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
  {
    // The single exec wrapper is the only place allowed to start processes.
    files: ['src/**/*.ts'],
    ignores: ['src/exec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'child_process', message: 'Start processes through src/exec.ts only.' },
            { name: 'node:child_process', message: 'Start processes through src/exec.ts only.' },
            { name: '@actions/exec', message: 'Start processes through src/exec.ts only.' },
          ],
        },
      ],
    },
  },
  {
    // ...and it goes through @actions/exec, as the design card says, not around it.
    files: ['src/exec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'child_process', message: 'src/exec.ts starts processes through @actions/exec.' },
            { name: 'node:child_process', message: 'src/exec.ts starts processes through @actions/exec.' },
          ],
        },
      ],
    },
  },
  {
    files: ['__tests__/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
