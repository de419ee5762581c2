import { lexicographicSortSchema, printSchema } from "graphql";
import { createSchema } from "./schema";

/** The SDL checked in as /schema.graphql (sorted so that diffs stay readable). */
export async function printSluiceSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await createSchema()))}\n`;
}

if (require.main === module) {
  printSluiceSchema().then(
    (sdl) => process.stdout.write(sdl),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
