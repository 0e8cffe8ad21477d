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
    // src/output.ts is the only module that prints: nothing else writes to the log by itself, so no text of
    // the image, the build or a registry can reach the runner as a workflow command (trust, round 2, item 1).
    files: ['src/**/*.ts'],
    ignores: ['src/output.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "MemberExpression[object.name='core'][property.name=/^(info|warning|error|notice|debug|setFailed|startGroup|endGroup|group)$/]",
          message: 'Print through src/output.ts only (it keeps text of any origin from becoming a workflow command).',
        },
        {
          selector: "MemberExpression[object.name='process'][property.name=/^(stdout|stderr)$/]",
          message: 'Print through src/output.ts only.',
        },
        { selector: "MemberExpression[object.name='console']", message: 'Print through src/output.ts only.' },
        {
          selector:
            "ImportDeclaration[source.value='@actions/core'] ImportSpecifier[imported.name=/^(info|warning|error|notice|debug|setFailed|startGroup|endGroup|group)$/]",
          message: 'Print through src/output.ts only.',
        },
      ],
    },
  },
  {
    files: ['__tests__/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
