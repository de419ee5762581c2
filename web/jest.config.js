/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.test.json" }] },
  // The app's own import alias (tsconfig.json paths), for tests of its server-side modules.
  moduleNameMapper: { "^@/(.*)$": "<rootDir>/src/$1" },
  testTimeout: 60000,
  reporters: ["default", ["<rootDir>/../scripts/jest-json-reporter.cjs", {}]],
};
