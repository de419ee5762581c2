import { formatSrn, parseSrn, type SrnResource } from "./srn";
import { compileResourcePatterns, resourcePatternProblem } from "./resource-pattern";
import { srn } from "./__tests__/helpers";

describe("SRN", () => {
  const cases: [SrnResource, string][] = [
    [{ type: "pipeline", pipeline: "web" }, "pipeline/web"],
    [{ type: "pipeline", pipeline: "web", stage: "Prod" }, "pipeline/web/stage/Prod"],
    [
      { type: "pipeline", pipeline: "web", stage: "Prod", action: "Approve" },
      "pipeline/web/stage/Prod/action/Approve",
    ],
    [{ type: "webhook", pipeline: "web" }, "webhook/web"],
    [{ type: "agent", pool: "default", name: "builder-1" }, "agent/default/builder-1"],
    [{ type: "agent-token" }, "agent-token"],
    [{ type: "agent-token", id: "4f0c" }, "agent-token/4f0c"],
    [
      { type: "action-type", category: "Build", owner: "Custom", provider: "Gradle", version: "1" },
      "action-type/Build/Custom/Gradle/1",
    ],
    [{ type: "user", name: "alice" }, "user/alice"],
    [{ type: "service-account", name: "ci" }, "service-account/ci"],
    [{ type: "role", name: "deployer" }, "role/deployer"],
    [{ type: "audit" }, "audit"],
  ];
  it.each(cases)("formats and parses %j", (resource, path) => {
    expect(formatSrn("acct1", resource)).toBe(`srn:sluice:acct1:${path}`);
    expect(parseSrn(`srn:sluice:acct1:${path}`)).toEqual({ account: "acct1", resource });
  });

  it.each([
    "arn:aws:iam::1:user/alice",
    "srn:sluice:acct1",
    "srn:sluice::pipeline/web",
    "srn:sluice:acct1:pipeline",
    "srn:sluice:acct1:pipeline/web/stage",
    "srn:sluice:acct1:pipeline/web/step/Prod",
    "srn:sluice:acct1:pipeline/web/stage/Prod/action",
    "srn:sluice:acct1:pipeline/we*",
    "srn:sluice:acct1:widget/x",
    "srn:sluice:acct1:audit/x",
    "srn:sluice:acct 1:audit",
  ])("refuses %s", (value) => {
    expect(parseSrn(value)).toBeNull();
  });
});

describe("resource patterns", () => {
  const matches = (pattern: string, resource: string) => compileResourcePatterns([pattern])(resource);
  it.each([
    ["*", srn("pipeline/web"), true],
    ["*", srn("audit"), true],
    [srn("pipeline/web"), srn("pipeline/web"), true],
    [srn("pipeline/web"), srn("pipeline/web/stage/Prod"), false],
    [srn("pipeline/web/*"), srn("pipeline/web"), false],
    [srn("pipeline/web/*"), srn("pipeline/web/stage/Prod"), true],
    [srn("pipeline/web/*"), srn("pipeline/web/stage/Prod/action/Approve"), true],
    [srn("pipeline/web/*"), srn("pipeline/webshop/stage/Prod"), false],
    [srn("pipeline/web*"), srn("pipeline/webshop"), true],
    [srn("pipeline/*/stage/Prod"), srn("pipeline/api/stage/Prod"), true],
    [srn("pipeline/*/stage/Prod"), srn("pipeline/api/stage/Prod/action/Approve"), false],
    [srn("pipeline/*/stage/Prod*"), srn("pipeline/api/stage/Prod/action/Approve"), true],
    [srn("pipeline/web/stage/Prod/*"), srn("pipeline/web/stage/Prod/action/Approve"), true],
    [srn("pipeline/web/stage/Prod/*"), srn("pipeline/web/stage/Beta/action/Approve"), false],
    [srn("pipeline/we?"), srn("pipeline/web"), true],
    [srn("pipeline/we?"), srn("pipeline/we"), false],
    [srn("pipeline/we?"), srn("pipeline/webb"), false],
    // case-sensitive, as IAM's resource matching
    [srn("pipeline/Web"), srn("pipeline/web"), false],
    [srn("pipeline/W*"), srn("pipeline/web"), false],
    // the account: a wildcard stays within it
    ["srn:sluice:*:pipeline/web", srn("pipeline/web", "other"), true],
    ["srn:sluice:acct?:pipeline/web", srn("pipeline/web", "acct2"), true],
    ["srn:sluice:acct1:pipeline/web", srn("pipeline/web", "acct2"), false],
    ["srn:sluice:*:*", srn("audit"), true],
    ["srn:sluice:a*:audit", "srn:sluice:a:b:audit", false],
    // regex characters are literal
    [srn("pipeline/a.b"), srn("pipeline/aXb"), false],
    [srn("pipeline/a.b*"), srn("pipeline/a.bc"), true],
  ])("%s on %s: %s", (pattern, resource, expected) => {
    expect(resourcePatternProblem(pattern)).toBeNull();
    expect(matches(pattern, resource)).toBe(expected);
  });

  it("matches when any of several patterns matches (literals and wildcards together)", () => {
    const any = compileResourcePatterns([srn("pipeline/a"), srn("pipeline/b/*"), srn("pipeline/c")]);
    expect(
      [srn("pipeline/a"), srn("pipeline/b/stage/X"), srn("pipeline/c"), srn("pipeline/b")].map(any),
    ).toEqual([true, true, true, false]);
  });

  it.each([
    ["pipeline/web", /must be "\*" or "srn:sluice:<account>:<resource>"/],
    ["srn:sluice:pipeline/web", /has no account/],
    ["srn:sluice:acct 1:pipeline/web", /account/],
    ["srn:sluice:acct1:", /names no resource/],
    ["srn:sluice:acct1:pipelines/web", /Unknown resource type "pipelines"/],
    ["arn:aws:s3:::bucket", /must be/],
  ])("refuses the pattern %s", (pattern, message) => {
    expect(resourcePatternProblem(pattern)).toMatch(message);
  });
});
