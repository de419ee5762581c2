import fs from "node:fs";
import path from "node:path";
import { printSluiceSchema } from "../src/graphql/print-schema";

/** schema.graphql is generated from the code and checked in: regenerate it with `npm run schema`. */
it("the checked-in schema.graphql matches the schema the code builds", async () => {
  const checkedIn = fs.readFileSync(path.join(__dirname, "..", "..", "schema.graphql"), "utf8");
  const generated = await printSluiceSchema();
  if (checkedIn !== generated) {
    throw new Error(
      "schema.graphql is out of date: run `npm run build && npm run schema` and commit the result.",
    );
  }
});
