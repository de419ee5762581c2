import type { PipelineDocument } from "../pipeline/document";
import {
  SECRET_NAME,
  documentReferences,
  malformedReferences,
  referencedNames,
  replaceReferences,
} from "./references";

const document = (configuration: Record<string, string>) =>
  ({
    name: "p",
    stages: [
      { name: "Source", actions: [{ name: "A", configuration: {} }] },
      { name: "Deploy", actions: [{ name: "B", configuration }] },
    ],
  }) as unknown as PipelineDocument;

describe("secret references", () => {
  it("names: SRN parts without / : or wildcards, 1–128 characters", () => {
    for (const ok of ["db-password", "a", "prod.db@eu+1=x_y", "x".repeat(128)])
      expect(SECRET_NAME.test(ok)).toBe(true);
    for (const bad of ["", "a/b", "a:b", "a*", "a?", "a b", "x".repeat(129)])
      expect(SECRET_NAME.test(bad)).toBe(false);
  });

  it("finds each name once, whole or inside a value, and replaces only those it has", () => {
    const text = "u={{resolve:secret:user}} p={{resolve:secret:pass}} again={{resolve:secret:user}}";
    expect(referencedNames(text)).toEqual(["user", "pass"]);
    expect(replaceReferences(text, new Map([["user", "ada"]]))).toBe(
      "u=ada p={{resolve:secret:pass}} again=ada",
    );
  });

  it("gives every reference of a document with the path of its field, opening values when asked", async () => {
    const found = await documentReferences(
      document({ Token: "ENVELOPE", Url: "https://x/{{resolve:secret:path-token}}" }),
      async (value) => (value === "ENVELOPE" ? "{{resolve:secret:token}}" : value),
    );
    expect(found).toEqual([
      { path: "stages[1].actions[0].configuration.Token", name: "token" },
      { path: "stages[1].actions[0].configuration.Url", name: "path-token" },
    ]);
  });

  it("reports a reference that is started but not well formed, by field", () => {
    expect(
      malformedReferences(
        document({
          Good: "{{resolve:secret:ok}}",
          Bad: "{{resolve:secret:not ok}}",
          Open: "{{resolve:secret:x",
        }),
      ).map((issue) => issue.path),
    ).toEqual(["stages[1].actions[0].configuration.Bad", "stages[1].actions[0].configuration.Open"]);
  });
});
