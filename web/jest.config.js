/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.test.json" }] },
  testTimeout: 60000,
  reporters: ["default", ["<rootDir>/../scripts/jest-json-reporter.cjs", {}]],
};
