import { SECRET_MASK } from "../../secrets";
import { validatePipeline } from "../validate";
import { builtinRegistry } from "../../../action-types/builtins";
import {
  action,
  actionType,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  stage,
} from "../__tests__/harness";

const notify = (name: string, secret: string | undefined) =>
  action(name, actionType("Invoke", "Webhook"), {
    configuration: { Url: "https://hooks.example/x", ...(secret === undefined ? {} : { Secret: secret }) },
  });

const withNotify = (name: string, secret: string | undefined, stageName = "Notify") =>
  pipeline({ stages: [stage("Source", [gitSource()]), stage(stageName, [notify(name, secret)])] });

describe("masked secrets: a secret shown as **** needs a stored value behind it", () => {
  it("accepts a real secret, and the mask in a property that is not secret", () => {
    expectValid(withNotify("Ping", "s3cret"));
    const doc = withNotify("Ping", "s3cret");
    doc.stages[1]!.actions[0]!.configuration.Method = SECRET_MASK;
    expectValid(doc);
  });

  it("reports the mask in a new pipeline at the secret's path", () => {
    expectIssues(withNotify("Ping", SECRET_MASK), [
      {
        path: "stages[1].actions[0].configuration.Secret",
        message: expect.stringMatching(
          /^Configuration "Secret" of action "Ping" of stage "Notify" is a secret shown as "\*\*\*\*"/,
        ),
      },
    ]);
  });

  it("takes the stored value for the same stage, action and property", () => {
    const previous = withNotify("Ping", "s3cret");
    const result = validatePipeline(withNotify("Ping", SECRET_MASK), builtinRegistry, { previous });
    expect(result.ok && result.document.stages[1]!.actions[0]!.configuration.Secret).toBe("s3cret");
  });

  it("has no stored value for a renamed action, an action moved to another stage, or one that had none", () => {
    const previous = withNotify("Ping", "s3cret");
    for (const [doc, path] of [
      [withNotify("Pong", SECRET_MASK), "stages[1].actions[0].configuration.Secret"],
      [withNotify("Ping", SECRET_MASK, "Announce"), "stages[1].actions[0].configuration.Secret"],
    ] as const) {
      const result = validatePipeline(doc, builtinRegistry, { previous });
      expect(result.ok ? [] : result.issues.map((i) => i.path)).toEqual([path]);
    }
    const without = validatePipeline(withNotify("Ping", SECRET_MASK), builtinRegistry, {
      previous: withNotify("Ping", undefined),
    });
    expect(without.ok).toBe(false);
  });
});
