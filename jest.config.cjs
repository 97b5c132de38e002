// Three projects, the three tiers: unit specs beside the code (`*.spec.ts`); in-process specs
// beside the code too (`*.int.spec.ts`: a Nest testing module on the real Redis); end-to-end
// specs against the real processes and services in test/ (`*.e2e-spec.ts`).
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
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
      testPathIgnorePatterns: ['\\.int\\.spec\\.ts$'],
      transform,
      setupFiles: ['reflect-metadata'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/src'],
      testMatch: ['**/*.int.spec.ts'],
      transform,
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
      setupFiles: ['reflect-metadata'],
      globalSetup: '<rootDir>/test/support/global-setup.cjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.cjs',
    },
  ],
};
