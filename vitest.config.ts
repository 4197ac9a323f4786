import { defineConfig } from 'vitest/config';

// Unit tests sit next to the code (`*.test.ts`); tests that need a real service are
// `*.int.test.ts` and find it through environment URLs set by infra/local (see README).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 0 },
          include: ['packages/*/src/**/*.int.test.ts', 'services/*/src/**/*.int.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          exclude: ['**/*.serial.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Suites that stop and start the shared servers (broker outages): alone, after the rest.
        test: {
          name: 'serial',
          include: ['test/**/*.serial.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
