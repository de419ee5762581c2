/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/src", "<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json" }] },
  testTimeout: 30000,
  // Two suites at a time: most integration suites wait on processes, NATS and PostgreSQL rather
  // than compute, and one at a time the suite outgrew CI's time (each suite has its own database,
  // NATS prefix, ports and data directory, so they do not meet).
  maxWorkers: 2,
  reporters: ["default", ["<rootDir>/../scripts/jest-json-reporter.cjs", {}]],
};
