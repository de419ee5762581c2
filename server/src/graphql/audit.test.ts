import { getMetadataStorage } from "type-graphql";
import { auditArguments, auditMutations } from "./audit";
import { createSchema } from "./schema";

describe("the audit log", () => {
  it("covers every mutation of the schema", async () => {
    const schema = await createSchema();
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    const audited = getMetadataStorage()
      .mutations.filter((m) => m.middlewares?.includes(auditMutations))
      .map((m) => m.schemaName);
    expect(mutations.length).toBeGreaterThan(10);
    expect(mutations.filter((name) => !audited.includes(name))).toEqual([]);
  });

  it("masks secrets and reduces documents to their name", () => {
    expect(
      auditArguments({
        input: { name: "web", stages: [{ name: "Source", actions: [] }] },
        description: "x".repeat(400),
        token: "sat_secret",
        headers: { Authorization: "Bearer x", accept: "json" },
        nested: { a: { b: { c: { d: 1 } } } },
      }),
    ).toEqual({
      input: { name: "web" },
      description: `${"x".repeat(300)}…`,
      token: "****",
      headers: { Authorization: "****", accept: "json" },
      nested: { a: { b: "{…}" } },
    });
  });
});
