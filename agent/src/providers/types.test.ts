import { formatActionTypeId, parseActionTypeId } from "./types";

describe("action type ids", () => {
  it.each(["Build/Sluice/Shell@1", "Source/Sluice/Git@1", "Build/Custom/My-Tool_2@v3"])(
    "round trips %s",
    (text) => {
      expect(formatActionTypeId(parseActionTypeId(text))).toBe(text);
    },
  );

  it.each([
    "Build/Sluice/Shell",
    "Compile/Sluice/Shell@1",
    "Build/AWS/CodeBuild@1",
    "Build/Sluice/Sh.ell@1",
    "",
  ])("refuses %j with the expected form", (text) => {
    expect(() => parseActionTypeId(text)).toThrow(/Category\/Owner\/Provider@Version/);
  });
});
