import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * Types and typed documents for every `graphql(...)` call under src/, from the public schema.
 * `npm run codegen` writes src/gql (checked in); `npm run typecheck` fails when it has drifted.
 */
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        skipTypename: false,
        scalars: { DateTime: "string", JSON: "unknown", JSONObject: "Record<string, unknown>" },
      },
    },
  },
};

export default config;
