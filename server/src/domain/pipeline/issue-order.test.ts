import { orderIssues } from "./issue-order";

const issue = (path: string, message = "Something is wrong.") => ({ path, message });

describe("orderIssues", () => {
  it("sorts by document order: indices numerically, fields in document field order", () => {
    const paths = [
      "stages[10].name",
      "stages[2].actions[0].timeoutInMinutes",
      "stages[2].actions[0].configuration.Commands",
      "stages[2].actions[0].runOrder",
      "stages[2].name",
      "triggers[0].gitConfiguration.sourceActionName",
      "variables[1].name",
      "name",
      "",
    ];
    expect(orderIssues(paths.map((p) => issue(p))).map((i) => i.path)).toEqual([
      "",
      "name",
      "variables[1].name",
      "triggers[0].gitConfiguration.sourceActionName",
      "stages[2].name",
      "stages[2].actions[0].runOrder",
      "stages[2].actions[0].configuration.Commands",
      "stages[2].actions[0].timeoutInMinutes",
      "stages[10].name",
    ]);
  });

  it("keeps the reported order at one path and among configuration keys, and drops exact repeats", () => {
    const issues = [
      issue('stages[0].actions[0].configuration["b key"]', "B."),
      issue("stages[0].actions[0].configuration.A", "First."),
      issue("stages[0].actions[0].configuration.A", "Second."),
      issue("stages[0].actions[0].configuration.A", "First."),
    ];
    expect(orderIssues(issues)).toEqual(issues.slice(0, 3));
  });
});
