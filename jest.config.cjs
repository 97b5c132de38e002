// Three projects, the three tiers: unit specs beside the code (`*.spec.ts`); in-process specs
// in test/integration/ (`*.int-spec.ts`: Nest modules or the classes themselves on the real
// Redis); end-to-end specs against the real processes and services (`*.e2e-spec.ts`).
const transform = {
  '^.+\\.m?ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
};
// A few modules are ES modules (`.mts`, imported as `.mjs`: the trace page's browser script
// imports them too); the tests load them from their sources.
const modules = {
  moduleFileExtensions: ['ts', 'mts', 'js', 'mjs', 'cjs', 'json'],
  resolver: '<rootDir>/test/support/mts-resolver.cjs',
};

/** @type {import('jest').Config} */
module.exports = {
  // End-to-end tests start real processes; each waits for events, this only ends a hung test.
  testTimeout: 120000,
  // The fault-injection scenarios (test/chaos) add a summary table at the end of the run.
  reporters: ['default', '<rootDir>/test/chaos/summary-reporter.cjs'],
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/src'],
      testMatch: ['**/*.spec.ts'],
      transform,
      ...modules,
      setupFiles: ['reflect-metadata'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.int-spec.ts'],
      transform,
      ...modules,
      setupFiles: ['reflect-metadata'],
      // The same services as the end-to-end tests: Redis and Elasticsearch answer, or are started.
      globalSetup: '<rootDir>/test/support/global-setup.cjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.cjs',
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform,
      ...modules,
      setupFiles: ['reflect-metadata'],
      globalSetup: '<rootDir>/test/support/global-setup.cjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.cjs',
    },
  ],
};
