/**
 * Architecture rules, checked by `npm run depcheck` (part of `npm run lint`).
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Circular imports make start-up order and mocking fragile.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment:
        'Folders are layers (docs/architecture.md): a folder that imports one which imports it back is no longer a layer, and the pair can only be understood, moved or tested together.',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'context-is-the-base',
      severity: 'error',
      comment:
        'The flow context is what every layer stamps and carries (docs/correlation.md): it imports no other folder of src, so none of them can form a cycle through it.',
      from: { path: '^src/context/' },
      to: { path: '^src/', pathNot: '^src/context/' },
    },
    {
      name: 'src-not-to-test',
      severity: 'error',
      comment: 'The application never imports test code.',
      from: { path: '^src/' },
      to: { path: '^test/|\\.spec\\.ts$' },
    },
    {
      name: 'src-not-to-dev-deps',
      severity: 'error',
      comment: 'The application runs with production dependencies only.',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'src-not-to-scripts',
      severity: 'error',
      comment: 'Developer scripts may use the app; the app never uses developer scripts.',
      from: { path: '^src/' },
      to: { path: '^scripts/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // test/fixtures/task-types/ is source for src/tasks/types/ of a copy of the application
    // (test/tasks/add-a-type.e2e-spec.ts): its imports resolve only there.
    exclude: { path: '^(dist|coverage)/|^test/fixtures/task-types/' },
  },
};
