/** Jest runs TypeScript through SWC (no type-check at test time; `npm run typecheck` does that). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  testSequencer: '<rootDir>/test/support/sequencer.js',
  testTimeout: 60000,
  maxWorkers: 2,
  // A worker that has run half the suite holds a heap of 0.5–1 GB (each test file's modules,
  // runtime and fixtures). At the end of every full run one such worker was killed for not
  // exiting within jest's half second ("failed to exit gracefully"), although no test file left
  // a handle or timer behind; restarted between two files once past this size, none has been.
  workerIdleMemoryLimit: '600MB',
};
