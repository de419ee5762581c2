import { extractReferences, substituteReferences } from "./references";

describe("extractReferences", () => {
  it("finds and classifies every reference in order", () => {
    expect(
      extractReferences(
        "git tag #{Src.CommitId} #{variables.Env} #{codepipeline.PipelineExecutionId} #{bad} #{open",
      ),
    ).toEqual([
      { kind: "output", text: "#{Src.CommitId}", start: 8, namespace: "Src", variable: "CommitId" },
      { kind: "pipelineVariable", text: "#{variables.Env}", start: 24, name: "Env" },
      {
        kind: "execution",
        text: "#{codepipeline.PipelineExecutionId}",
        start: 41,
        variable: "PipelineExecutionId",
      },
      { kind: "malformed", text: "#{bad}", start: 77 },
      { kind: "malformed", text: "#{open", start: 84 },
    ]);
  });

  it("ignores text without #{", () => {
    expect(extractReferences("echo ${HOME} # {not} #x")).toEqual([]);
  });
});

describe("substituteReferences", () => {
  it("replaces what resolves and lists what does not", () => {
    const result = substituteReferences("deploy #{Src.CommitId} to #{variables.Env} #{Other.X}", (ref) =>
      ref.kind === "output" && ref.namespace === "Src"
        ? "abc123"
        : ref.kind === "pipelineVariable"
          ? "prod"
          : undefined,
    );
    expect(result.value).toBe("deploy abc123 to prod #{Other.X}");
    expect(result.unresolved.map((r) => r.text)).toEqual(["#{Other.X}"]);
  });
});
