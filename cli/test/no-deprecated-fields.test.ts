/**
 * Our own clients use no deprecated field (docs/graphql.md, "Mutations"): every GraphQL document
 * the CLI (cli/src) and the dashboard (web/src) send is valid against schema.graphql and uses no
 * field, argument, input field or enum value marked @deprecated (graphql-js's
 * NoDeprecatedCustomRule). A deprecated mutation kept for other clients must not be one of ours.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import {
  buildSchema,
  NoDeprecatedCustomRule,
  parse,
  specifiedRules,
  validate,
  type GraphQLSchema,
} from "graphql";

const ROOT = path.join(__dirname, "..", "..");
const schema: GraphQLSchema = buildSchema(readFileSync(path.join(ROOT, "schema.graphql"), "utf8"));
const RULES = [...specifiedRules, NoDeprecatedCustomRule];

function filesUnder(dir: string, extensions: string[]): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && extensions.some((ext) => e.name.endsWith(ext)))
    .map((e) => path.join(e.parentPath, e.name));
}

/** The problems of one document: invalid, or using something deprecated. */
function problemsOf(source: string): string[] {
  try {
    return validate(schema, parse(source), RULES).map((e) => e.message);
  } catch (error) {
    return [(error as Error).message];
  }
}

// A string that starts a document: `query(`, "mutation SignIn(" (the CLI writes the keyword of
// every operation, so a `{ … }` shorthand query would go unseen: none is written).
const OPERATION_START = /(["`])(query|mutation|subscription)\s*[({A-Za-z]/g;
const isDocument = (value: unknown): value is string =>
  typeof value === "string" && /^\s*(query|mutation|subscription)\b/.test(value);

describe("the CLI's GraphQL documents", () => {
  const files = filesUnder(path.join(ROOT, "cli", "src"), [".ts"]).filter((f) => !f.endsWith(".d.ts"));

  it("are all exported (so this test sees each of them, with its fragments filled in)", () => {
    const missing: string[] = [];
    for (const file of files) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const exported = Object.values(require(file) as Record<string, unknown>).filter(isDocument);
      const written = [...readFileSync(file, "utf8").matchAll(OPERATION_START)].length;
      if (written > exported.length)
        missing.push(`${path.relative(ROOT, file)}: ${written} written, ${exported.length} exported`);
    }
    expect(missing).toEqual([]);
  });

  it("are valid and use no deprecated field", () => {
    const found: Array<[string, string[]]> = [];
    let checked = 0;
    for (const file of files) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      for (const [name, value] of Object.entries(require(file) as Record<string, unknown>)) {
        if (!isDocument(value)) continue;
        checked++;
        const problems = problemsOf(value);
        if (problems.length > 0) found.push([`${path.relative(ROOT, file)} ${name}`, problems]);
      }
    }
    expect(found).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });

  it("would be caught using a deprecated mutation", () => {
    expect(problemsOf(`mutation { releaseChange(pipelineName: "x") { id } }`)).toEqual([
      expect.stringMatching(/Mutation\.releaseChange is deprecated\. Use startPipelineExecution\(input:\)/),
    ]);
  });
});

describe("the dashboard's GraphQL documents", () => {
  it("are valid and use no deprecated field", () => {
    const files = filesUnder(path.join(ROOT, "web", "src"), [".ts", ".tsx"]).filter(
      (f) => !f.includes(`${path.sep}gql${path.sep}`),
    );
    // graphql(`...`) calls (what codegen reads): named operations and fragments, validated together.
    const documents = files.flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/\bgraphql\(`([^`]*)`\)/g)].map((m) => m[1]!),
    );
    // Requests made without urql (fetch with a `query` string: the token check).
    const plain = files.flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/\bquery: "([^"]*)"/g)].map((m) => m[1]!),
    );
    expect(plain.length).toBeGreaterThan(0);
    expect(plain.flatMap(problemsOf)).toEqual([]);
    expect(documents.length).toBeGreaterThan(30);
    expect(problemsOf(documents.join("\n"))).toEqual([]);
    expect(documents.filter((d) => /\bmutation\b/.test(d)).length).toBeGreaterThan(20);
  });
});
