import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'build/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
    },
  },
  {
    // The engine is plain TypeScript: it talks to ports, never to Teams, Atera, OpenAI or storage packages.
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'botbuilder*',
                '@microsoft/*',
                'axios',
                'openai',
                'lowdb*',
                'pg',
                'restify',
                '**/adapters/**',
                '**/sandboxes/**',
                '**/http/**',
              ],
              message: 'src/engine talks only to src/ports.',
            },
          ],
        },
      ],
    },
  },
  {
    // The round and time limits are compared in one place, so a newcomer finds them at first look.
    files: ['src/engine/**/*.ts'],
    ignores: ['src/engine/conversation-rules.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['rounds', 'deadlineAt'].map((field) => ({
          selector: `BinaryExpression[operator=/^[<>]=?$/] MemberExpression[property.name='${field}']`,
          message: `Compare ${field} in src/engine/conversation-rules.ts, the one place for the conversation limits.`,
        })),
      ],
    },
  },
  {
    // Command-line entry points, sandboxes, scripts and benchmarks print to the terminal on purpose.
    files: ['src/sandboxes/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'eval/**/*.ts', 'src/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
