// ESLint flat config for the whole monorepo. Not type-aware, to stay fast.
import js from "@eslint/js";
import { fileURLToPath } from "node:url";
import { defineConfig, globalIgnores, includeIgnoreFile } from "eslint/config";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

// Node's globals for plain JS (scripts, configs); the `globals` package is not a dependency.
const nodeGlobals = Object.fromEntries(
  [
    "process", "console", "Buffer", "URL", "URLSearchParams", "AbortController", "AbortSignal", "TextEncoder",
    "TextDecoder", "fetch", "Response", "Request", "Headers", "FormData", "Blob", "structuredClone",
    "queueMicrotask", "performance", "setTimeout", "clearTimeout", "setInterval", "clearInterval",
    "setImmediate", "clearImmediate", "global", "globalThis",
  ].map((name) => [name, "readonly"]),
); // prettier-ignore
const commonJsGlobals = {
  module: "writable",
  exports: "writable",
  require: "readonly",
  __dirname: "readonly",
  __filename: "readonly",
};

// Relative imports that climb out of a layer folder into another layer: "../persistence", "../../engine/x", ...
const intoLayers = (...layers) => ({
  regex: `^(\\.\\./)+(${layers.join("|")})(/|$)`,
  message: `this layer may not import from the ${layers.join("/")} layers`,
});

export default defineConfig(
  // What git ignores is not the project's (`npx eslint .` agrees with `npm run lint`, scripts/lint.mjs).
  includeIgnoreFile(fileURLToPath(new URL(".gitignore", import.meta.url))),
  globalIgnores([
    "**/node_modules/",
    "**/dist/",
    "**/.next/",
    "**/.turbo/",
    "**/coverage/",
    "**/*.d.ts",
    ".sluice/",
    ".test-results/",
    "bench/results/",
    "web/src/gql/",
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
        },
      ],
    },
  },
  {
    // Tests read GraphQL responses as loosely typed JSON.
    files: ["**/test/**/*.ts", "**/*.test.ts", "**/__tests__/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["**/*.{js,mjs,cjs}"],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ["**/*.cjs", "**/jest.config.js"],
    languageOptions: { sourceType: "commonjs", globals: { ...nodeGlobals, ...commonJsGlobals } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // The domain is pure: no persistence, engine, transport, framework or I/O.
    files: ["server/src/domain/**/*.ts"],
    // tests kept beside the code may read fixtures
    ignores: ["**/__tests__/**", "**/*.test.ts", "**/*.spec.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            "typeorm",
            "typeorm-pglite",
            "pg",
            "express",
            "type-graphql",
            "fs",
            "node:fs",
            "fs/promises",
            "node:fs/promises",
            "child_process",
            "node:child_process",
          ].map((name) => ({ name, message: "the domain layer may not do I/O or depend on frameworks" })),
          patterns: [
            intoLayers("persistence", "engine", "graphql", "messaging", "notifications", "http"),
            {
              group: ["@nats-io/*", "typeorm/*", "pg/*", "@electric-sql/*"],
              message: "the domain layer may not depend on NATS or databases",
            },
          ],
        },
      ],
    },
  },
  // The server's other layers (docs/ARCHITECTURE.md, "Layers"): each may import only the layers below it.
  ...layerRules({
    persistence: ["engine", "messaging", "notifications", "graphql", "http", "auth"],
    auth: ["engine", "messaging", "notifications", "graphql", "http"],
    engine: ["messaging", "notifications", "graphql", "http"],
    messaging: ["notifications", "graphql", "http"],
    notifications: ["engine", "graphql", "http"],
    http: ["graphql"],
  }),
  {
    // The engine and messaging layers hold no SQL: every statement is a persistence/ store's
    // (docs/ARCHITECTURE.md, "One repository interface"). Not type-aware, so it names the calls
    // that only TypeORM and pg have.
    files: ["server/src/engine/**/*.ts", "server/src/messaging/**/*.ts"],
    ignores: ["**/*.test.ts", "**/__tests__/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "CallExpression[callee.property.name=/^(query|createQueryBuilder|getRepository|getTreeRepository|createQueryRunner)$/]",
          message: "SQL belongs in a persistence/ store: call a store's method instead",
        },
        {
          // TypeORM's EntityManager methods, on the names a transaction's manager goes by here.
          selector:
            "CallExpression[callee.object.name=/^(m|manager|em|entityManager)$/][callee.property.name=/^(save|insert|update|upsert|delete|softDelete|remove|create|merge|preload|count|countBy|exists|existsBy|findBy|findOne|findOneBy|findOneOrFail|findAndCount|increment|decrement|getRepository)$/]",
          message: "SQL belongs in a persistence/ store: call a store's method instead",
        },
        ...["callee.object.name", "callee.object.property.name"].map((object) => ({
          selector: `CallExpression[callee.property.name='transaction'][${object}=/^(db|dataSource)$/]`,
          message: "transactions are opened by persistence/ (a store, auditedTransaction, transaction())",
        })),
      ],
    },
  },
  {
    // No import cycles anywhere in the server's and the agent's sources.
    files: ["server/src/**/*.ts", "agent/src/**/*.ts", "protocol/src/**/*.ts", "cli/src/**/*.ts"],
    ignores: ["**/*.test.ts", "**/__tests__/**"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".js", ".json"] })],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/extensions": [".ts", ".js"],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
);

/** One no-restricted-imports rule per server layer, naming the layers it may not reach. */
function layerRules(forbidden) {
  return Object.entries(forbidden).map(([layer, layers]) => ({
    files: [`server/src/${layer}/**/*.ts`],
    rules: { "no-restricted-imports": ["error", { patterns: [intoLayers(...layers)] }] },
  }));
}
