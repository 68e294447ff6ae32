/** Jest runs TypeScript through ts-jest (tsc keeps decorator metadata, which type-graphql and TypeORM need). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: false }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['reflect-metadata'],
  setupFilesAfterEnv: ['<rootDir>/test/support/nock-per-file.ts'],
  testTimeout: 180_000, // a ceiling, not a goal: CI machines are small and sometimes busy
  maxWorkers: process.env.CI ? 2 : '50%',
};
