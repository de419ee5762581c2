/**
 * Stage and action edits (editStages): an ordered list, each edit setting exactly one variant.
 * Edits apply in order to a copy of the document; an edit that cannot apply (a missing stage or
 * action, a name already taken, no or several variants, a bad index, a malformed stage/action) is
 * reported at `edits[i]…` and skipped, and the following edits still apply, so one call reports
 * every problem. The result is not validated as a whole: the caller runs validatePipeline on it.
 * Pure: the input document is never mutated.
 */
import type { ValidationIssue } from "../errors";
import type { PipelineDocument, StageDeclaration } from "./document";
import { parseActionDeclaration, parseStageDeclaration } from "./parse";
import { formatPath, quote, type PathSegment } from "./paths";

export interface AddStageEdit {
  /** Position of the new stage, 0..stages.length; default: after the last stage. */
  index?: number | null;
  /** An untrusted stage, parsed like a stage of a pipeline document. */
  stage: unknown;
}
export interface RemoveStageEdit {
  name: string;
}
/** Renames a stage. Triggers name source actions, not stages, so none needs rewriting. */
export interface RenameStageEdit {
  name: string;
  newName: string;
}
export interface MoveStageEdit {
  name: string;
  /** The stage's position after the move, 0..stages.length - 1. */
  index: number;
}
export interface AddActionEdit {
  stageName: string;
  /** An untrusted action, parsed like an action of a pipeline document; appended to the stage. */
  action: unknown;
}
export interface UpdateActionEdit {
  stageName: string;
  actionName: string;
  /** Replaces the action whole (it may rename it). */
  action: unknown;
}
export interface RemoveActionEdit {
  stageName: string;
  actionName: string;
}

/** One edit: set exactly one of these (null counts as not set, as GraphQL sends it). */
export interface StageEdit {
  addStage?: AddStageEdit | null;
  removeStage?: RemoveStageEdit | null;
  renameStage?: RenameStageEdit | null;
  moveStage?: MoveStageEdit | null;
  addAction?: AddActionEdit | null;
  updateAction?: UpdateActionEdit | null;
  removeAction?: RemoveActionEdit | null;
}

const VARIANTS = [
  "addStage",
  "removeStage",
  "renameStage",
  "moveStage",
  "addAction",
  "updateAction",
  "removeAction",
] as const satisfies readonly (keyof StageEdit)[];

/** Applies one edit to `doc` in place (doc is the working copy); returns its issues. */
type Apply<E> = (doc: PipelineDocument, edit: E, at: readonly PathSegment[]) => ValidationIssue[];

export function applyStageEdits(
  doc: PipelineDocument,
  edits: readonly StageEdit[],
): { ok: true; document: PipelineDocument } | { ok: false; issues: ValidationIssue[] } {
  const working = structuredClone(doc);
  const issues = edits.flatMap((edit, i) => applyOne(working, edit, ["edits", i]));
  return issues.length === 0 ? { ok: true, document: working } : { ok: false, issues };
}

function applyOne(doc: PipelineDocument, edit: StageEdit, at: readonly PathSegment[]): ValidationIssue[] {
  const set = VARIANTS.filter((variant) => edit[variant] !== undefined && edit[variant] !== null);
  if (set.length !== 1) {
    const found = set.length === 0 ? "none is set" : `${set.join(" and ")} are set`;
    return [
      { path: formatPath(at), message: `An edit sets exactly one of ${VARIANTS.join(", ")}; ${found}.` },
    ];
  }
  // Each applier checks everything before it touches the working copy, so a failed edit changes nothing.
  if (edit.addStage) return addStage(doc, edit.addStage, [...at, "addStage"]);
  if (edit.removeStage) return removeStage(doc, edit.removeStage, [...at, "removeStage"]);
  if (edit.renameStage) return renameStage(doc, edit.renameStage, [...at, "renameStage"]);
  if (edit.moveStage) return moveStage(doc, edit.moveStage, [...at, "moveStage"]);
  if (edit.addAction) return addAction(doc, edit.addAction, [...at, "addAction"]);
  if (edit.updateAction) return updateAction(doc, edit.updateAction, [...at, "updateAction"]);
  if (edit.removeAction) return removeAction(doc, edit.removeAction, [...at, "removeAction"]);
  return [];
}

const addStage: Apply<AddStageEdit> = (doc, edit, at) => {
  const index = edit.index ?? doc.stages.length;
  const issues = indexIssues(index, doc.stages.length, [...at, "index"], "A new stage");
  const parsed = parseStageDeclaration(edit.stage, [...at, "stage"]);
  if (!parsed.ok) return [...issues, ...parsed.issues];
  if (findStage(doc, parsed.stage.name)) issues.push(stageTaken(parsed.stage.name, [...at, "stage", "name"]));
  if (issues.length === 0) doc.stages.splice(index, 0, parsed.stage);
  return issues;
};

const removeStage: Apply<RemoveStageEdit> = (doc, edit, at) => {
  const index = doc.stages.findIndex((s) => s.name === edit.name);
  if (index < 0) return [noStage(doc, edit.name, [...at, "name"])];
  doc.stages.splice(index, 1);
  return [];
};

const renameStage: Apply<RenameStageEdit> = (doc, edit, at) => {
  const stage = findStage(doc, edit.name);
  if (!stage) return [noStage(doc, edit.name, [...at, "name"])];
  if (edit.newName !== edit.name && findStage(doc, edit.newName))
    return [stageTaken(edit.newName, [...at, "newName"])];
  stage.name = edit.newName;
  return [];
};

const moveStage: Apply<MoveStageEdit> = (doc, edit, at) => {
  const from = doc.stages.findIndex((s) => s.name === edit.name);
  const issues = from < 0 ? [noStage(doc, edit.name, [...at, "name"])] : [];
  issues.push(...indexIssues(edit.index, doc.stages.length - 1, [...at, "index"], "A moved stage"));
  if (issues.length > 0) return issues;
  const [stage] = doc.stages.splice(from, 1);
  doc.stages.splice(edit.index, 0, stage!);
  return [];
};

const addAction: Apply<AddActionEdit> = (doc, edit, at) => {
  const stage = findStage(doc, edit.stageName);
  const issues = stage ? [] : [noStage(doc, edit.stageName, [...at, "stageName"])];
  const parsed = parseActionDeclaration(edit.action, [...at, "action"]);
  if (!parsed.ok) return [...issues, ...parsed.issues];
  if (!stage) return issues;
  if (stage.actions.some((a) => a.name === parsed.action.name)) {
    return [actionTaken(stage, parsed.action.name, [...at, "action", "name"])];
  }
  stage.actions.push(parsed.action);
  return [];
};

const updateAction: Apply<UpdateActionEdit> = (doc, edit, at) => {
  const stage = findStage(doc, edit.stageName);
  const index = stage ? stage.actions.findIndex((a) => a.name === edit.actionName) : -1;
  const issues = !stage
    ? [noStage(doc, edit.stageName, [...at, "stageName"])]
    : index < 0
      ? [noAction(stage, edit.actionName, [...at, "actionName"])]
      : [];
  const parsed = parseActionDeclaration(edit.action, [...at, "action"]);
  if (!parsed.ok) return [...issues, ...parsed.issues];
  if (!stage || index < 0) return issues;
  if (stage.actions.some((a, i) => i !== index && a.name === parsed.action.name)) {
    return [actionTaken(stage, parsed.action.name, [...at, "action", "name"])];
  }
  stage.actions[index] = parsed.action;
  return [];
};

const removeAction: Apply<RemoveActionEdit> = (doc, edit, at) => {
  const stage = findStage(doc, edit.stageName);
  if (!stage) return [noStage(doc, edit.stageName, [...at, "stageName"])];
  const index = stage.actions.findIndex((a) => a.name === edit.actionName);
  if (index < 0) return [noAction(stage, edit.actionName, [...at, "actionName"])];
  stage.actions.splice(index, 1);
  return [];
};

function findStage(doc: PipelineDocument, name: string): StageDeclaration | undefined {
  return doc.stages.find((s) => s.name === name);
}

function indexIssues(
  index: unknown,
  max: number,
  path: readonly PathSegment[],
  what: string,
): ValidationIssue[] {
  // Typed as a number, but edits arrive from outside: check it is a whole position in range.
  if (typeof index === "number" && Number.isInteger(index) && index >= 0 && index <= max) return [];
  return [
    {
      path: formatPath(path),
      message: `${what} goes at an index from 0 to ${max}; ${String(index)} is not one.`,
    },
  ];
}

function noStage(doc: PipelineDocument, name: string, path: readonly PathSegment[]): ValidationIssue {
  const names = doc.stages.map((s) => quote(s.name)).join(", ");
  const stages = names ? `the stages are ${names}` : "the pipeline has no stages";
  return { path: formatPath(path), message: `No stage is named ${quote(name)}; ${stages}.` };
}

function noAction(stage: StageDeclaration, name: string, path: readonly PathSegment[]): ValidationIssue {
  const names = stage.actions.map((a) => quote(a.name)).join(", ");
  const actions = names ? `its actions are ${names}` : "it has no actions";
  return {
    path: formatPath(path),
    message: `Stage ${quote(stage.name)} has no action named ${quote(name)}; ${actions}.`,
  };
}

function stageTaken(name: string, path: readonly PathSegment[]): ValidationIssue {
  return {
    path: formatPath(path),
    message: `A stage named ${quote(name)} already exists; stage names must be unique.`,
  };
}

function actionTaken(stage: StageDeclaration, name: string, path: readonly PathSegment[]): ValidationIssue {
  return {
    path: formatPath(path),
    message: `Stage ${quote(stage.name)} already has an action named ${quote(name)}; action names must be unique in a stage.`,
  };
}
