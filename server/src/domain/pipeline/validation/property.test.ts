import fc from "fast-check";
import { builtinRegistry } from "../../action-types/builtins";
import type { PipelineDocument } from "../document";
import { validPipelineDocument } from "../__tests__/arbitraries";
import { exportPipelineDocument, parsePipelineDocument } from "../parse";
import { validatePipeline } from "./validate";

const RUNS = { numRuns: 300 };

/**
 * One way to break a valid document: it edits a copy (the normalized document, which is also
 * valid input) and returns the exact path of the field it broke. `pick` chooses a target.
 */
type Mutation = (doc: PipelineDocument, pick: number) => string;

const allActions = (doc: PipelineDocument) =>
  doc.stages.flatMap((stage, i) =>
    stage.actions.map((action, j) => ({ action, path: `stages[${i}].actions[${j}]` })),
  );
const anyAction = (doc: PipelineDocument, pick: number) => {
  const actions = allActions(doc);
  return actions[pick % actions.length]!;
};
/** The arbitrary puts a Build action with an input and `Commands` first in stage 1. */
const firstBuild = (doc: PipelineDocument) => doc.stages[1]!.actions[0]!;
const FIRST_BUILD = "stages[1].actions[0]";

const MUTATIONS: Record<string, Mutation> = {
  "runOrder 0": (doc, pick) => {
    const { action, path } = anyAction(doc, pick);
    action.runOrder = 0;
    return `${path}.runOrder`;
  },
  "runOrder 1000": (doc, pick) => {
    const { action, path } = anyAction(doc, pick);
    action.runOrder = 1000;
    return `${path}.runOrder`;
  },
  "runOrder 1.5": (doc, pick) => {
    const { action, path } = anyAction(doc, pick);
    action.runOrder = 1.5;
    return `${path}.runOrder`;
  },
  "runOrder not a number": (doc, pick) => {
    const { action, path } = anyAction(doc, pick);
    (action as { runOrder: unknown }).runOrder = "1";
    return `${path}.runOrder`;
  },
  "bad stage name": (doc, pick) => {
    const i = pick % doc.stages.length;
    doc.stages[i]!.name = "bad name!";
    return `stages[${i}].name`;
  },
  "duplicate stage name": (doc) => {
    const last = doc.stages.length - 1;
    doc.stages[last]!.name = doc.stages[0]!.name;
    return `stages[${last}].name`;
  },
  "duplicate action name": (doc, pick) => {
    const i = pick % doc.stages.length;
    const actions = doc.stages[i]!.actions;
    if (actions.length < 2) actions.push(structuredClone(actions[0]!));
    else actions[1]!.name = actions[0]!.name;
    return `stages[${i}].actions[1].name`;
  },
  "unknown input artifact": (doc) => {
    firstBuild(doc).inputArtifacts[0]!.name = "Missing-artifact";
    return `${FIRST_BUILD}.inputArtifacts[0].name`;
  },
  "consume own output": (doc) => {
    const build = firstBuild(doc);
    build.outputArtifacts.push({ name: "Own-output" });
    build.inputArtifacts[0]!.name = "Own-output";
    return `${FIRST_BUILD}.inputArtifacts[0].name`;
  },
  "bad artifact name": (doc, pick) => {
    const j = pick % doc.stages[0]!.actions.length;
    const source = doc.stages[0]!.actions[j]!;
    const old = source.outputArtifacts[0]!.name;
    source.outputArtifacts[0]!.name = "bad name!";
    for (const { action } of allActions(doc)) {
      for (const input of action.inputArtifacts) if (input.name === old) input.name = "bad name!";
    }
    return `stages[0].actions[${j}].outputArtifacts[0].name`;
  },
  "duplicate output artifact": (doc) => {
    firstBuild(doc).outputArtifacts.push({ name: doc.stages[0]!.actions[0]!.outputArtifacts[0]!.name });
    return `${FIRST_BUILD}.outputArtifacts[${firstBuild(doc).outputArtifacts.length - 1}].name`;
  },
  "missing required configuration": (doc) => {
    delete firstBuild(doc).configuration.Commands;
    return `${FIRST_BUILD}.configuration.Commands`;
  },
  "unknown configuration key": (doc, pick) => {
    const { action, path } = anyAction(doc, pick);
    action.configuration.Bogus = "x";
    return `${path}.configuration.Bogus`;
  },
  "configuration value too long": (doc) => {
    firstBuild(doc).configuration.Commands = "x".repeat(1001);
    return `${FIRST_BUILD}.configuration.Commands`;
  },
  "undefined namespace reference": (doc) => {
    firstBuild(doc).configuration.Commands = "echo #{Undefined-ns.CommitId}";
    return `${FIRST_BUILD}.configuration.Commands`;
  },
  "undeclared variable reference": (doc) => {
    firstBuild(doc).configuration.Commands = "echo #{variables.Not-declared}";
    return `${FIRST_BUILD}.configuration.Commands`;
  },
  "malformed reference": (doc) => {
    firstBuild(doc).configuration.Commands = "echo #{oops}";
    return `${FIRST_BUILD}.configuration.Commands`;
  },
  "namespace equal to an artifact": (doc) => {
    const build = firstBuild(doc);
    build.namespace = build.inputArtifacts[0]!.name;
    return `${FIRST_BUILD}.namespace`;
  },
  "unknown action type": (doc, pick) => {
    const { action, path } = anyAction(doc, pick);
    action.actionTypeId.provider = "NoSuchProvider";
    return `${path}.actionTypeId`;
  },
  "timeout too short": (doc, pick) => {
    const { action, path } = anyAction(doc, pick);
    action.timeoutInMinutes = 4;
    return `${path}.timeoutInMinutes`;
  },
  "bad region": (doc, pick) => {
    const { action, path } = anyAction(doc, pick);
    action.region = "bad region!";
    return `${path}.region`;
  },
  "source action after the first stage": (doc) => {
    const last = doc.stages.length - 1;
    const source = structuredClone(doc.stages[0]!.actions[0]!);
    source.name = "Late-source";
    source.outputArtifacts = [{ name: "Late-artifact" }];
    source.namespace = null;
    doc.stages[last]!.actions.push(source);
    return `stages[${last}].actions[${doc.stages[last]!.actions.length - 1}].actionTypeId.category`;
  },
  "duplicate variable": (doc) => {
    doc.variables.push(
      { name: "Twice", defaultValue: null, description: null },
      { name: "Twice", defaultValue: null, description: null },
    );
    return `variables[${doc.variables.length - 1}].name`;
  },
  "trigger on an unknown action": (doc) => {
    doc.triggers.push({ providerType: "Git", gitConfiguration: { sourceActionName: "Nope", push: [] } });
    return `triggers[${doc.triggers.length - 1}].gitConfiguration.sourceActionName`;
  },
};

describe("validation properties", () => {
  it("accepts every generated document", () => {
    fc.assert(
      fc.property(validPipelineDocument(), (doc) => {
        expect(validatePipeline(doc, builtinRegistry)).toEqual({ ok: true, document: doc });
      }),
      RUNS,
    );
  });

  it("round-trips every generated document through export and parse", () => {
    fc.assert(
      fc.property(validPipelineDocument(), (doc) => {
        const exported = exportPipelineDocument(doc);
        expect(parsePipelineDocument(exported)).toEqual({ ok: true, document: doc });
        expect(parsePipelineDocument(JSON.parse(JSON.stringify(exported)))).toEqual({
          ok: true,
          document: doc,
        });
      }),
      RUNS,
    );
  });

  it("generates the variety it promises", () => {
    const docs = fc.sample(validPipelineDocument(), { numRuns: 300, seed: 42 });
    const actions = docs.flatMap((d) => d.stages.flatMap((s) => s.actions));
    expect(new Set(docs.map((d) => d.stages.length))).toEqual(new Set([2, 3, 4, 5, 6]));
    expect(docs.some((d) => d.triggers.length > 0)).toBe(true);
    expect(docs.some((d) => d.variables.length > 0)).toBe(true);
    expect(
      actions.some((a) =>
        Object.values(a.configuration).some((v) => /#\{(?!variables|codepipeline)/.test(v)),
      ),
    ).toBe(true);
    expect(docs.some((d) => d.stages.some((s) => new Set(s.actions.map((a) => a.runOrder)).size > 1))).toBe(
      true,
    );
    expect(
      docs.some((d) =>
        d.stages.some((s) => s.actions.length > new Set(s.actions.map((a) => a.runOrder)).size),
      ),
    ).toBe(true);
  });

  it.each(Object.keys(MUTATIONS))("reports the mutation %s at the mutated path", (name) => {
    const mutate = MUTATIONS[name]!;
    fc.assert(
      fc.property(validPipelineDocument(), fc.nat(), (doc, pick) => {
        const broken = structuredClone(doc);
        const path = mutate(broken, pick);
        const result = validatePipeline(broken, builtinRegistry);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.issues.map((issue) => issue.path)).toContain(path);
      }),
      { numRuns: 60 },
    );
  });

  it("reports an unknown key of the exported JSON at its path", () => {
    fc.assert(
      fc.property(validPipelineDocument(), fc.nat(), (doc, pick) => {
        const exported = exportPipelineDocument(doc) as { stages: { actions: Record<string, unknown>[] }[] };
        const stage = pick % exported.stages.length;
        exported.stages[stage]!.actions[0]!.onFailure = "RETRY";
        const result = validatePipeline(exported, builtinRegistry);
        expect(!result.ok && result.issues.map((i) => i.path)).toEqual([
          `stages[${stage}].actions[0].onFailure`,
        ]);
      }),
      { numRuns: 60 },
    );
  });
});
