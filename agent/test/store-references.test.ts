/** `{{resolve:secret:NAME}}`: the job asks for its box, and the values that came are put in place. */
import type { JobMessage } from "@sluice/protocol";
import { hasSecrets, replaceStoreReferences } from "../src/runtime/secrets";

const job = (configuration: Record<string, string>) => ({ configuration }) as unknown as JobMessage;

describe("store references on the agent", () => {
  it("a job with a reference, whole or inside a value, asks for its secrets; one without does not", () => {
    expect(hasSecrets(job({ Token: "{{resolve:secret:db-password}}" }))).toBe(true);
    expect(hasSecrets(job({ Commands: "psql --password={{resolve:secret:db.pass@eu}} -c 1" }))).toBe(true);
    expect(hasSecrets(job({ Commands: "echo {{resolve:agent-env:HOME}} {{resolve:secret:bad name}}" }))).toBe(
      false,
    );
  });

  it("replaces every occurrence of the references that arrived, and leaves the others as written", () => {
    const values = new Map([["{{resolve:secret:a}}", "alpha$&$1"]]);
    expect(
      replaceStoreReferences(
        {
          One: "{{resolve:secret:a}}",
          Two: "x={{resolve:secret:a}};y={{resolve:secret:a}}",
          Three: "{{resolve:secret:b}}",
        },
        values,
      ),
    ).toEqual({
      // `$&` and `$1` in a value are taken literally, not as replacement patterns.
      One: "alpha$&$1",
      Two: "x=alpha$&$1;y=alpha$&$1",
      Three: "{{resolve:secret:b}}",
    });
  });
});
