/**
 * What every rule gets: the parsed document, the action type registry, and `report`. Rules only
 * read the document and report; they never stop validation, so the user sees every problem.
 */
import type { ActionTypeDefinition, ActionTypeRegistry } from "../../action-types/action-type";
import type { ValidationIssue } from "../../errors";
import type { ActionDeclaration, PipelineDocument, StageDeclaration } from "../document";
import { actionPath } from "../paths";

/** An action with where it sits and its type (undefined when the registry does not know it). */
export interface ActionEntry {
  stageIndex: number;
  actionIndex: number;
  stage: StageDeclaration;
  action: ActionDeclaration;
  /** `stages[1].actions[0]` */
  path: string;
  type: ActionTypeDefinition | undefined;
  /** For ordering (ordering.ts): the stage index and runOrder. */
  runOrder: number;
}

export interface ReportOptions {
  /** The issue breaks a quota of PIPELINE-MODEL.md's table (LIMIT_EXCEEDED). */
  limit?: boolean;
}

export class ValidationContext {
  private readonly reported: ValidationIssue[] = [];
  private entries: readonly ActionEntry[] | undefined;

  constructor(
    readonly document: PipelineDocument,
    readonly registry: ActionTypeRegistry,
  ) {}

  report(path: string, message: string, options: ReportOptions = {}): void {
    this.reported.push(options.limit ? { path, message, limit: true } : { path, message });
  }

  get issues(): readonly ValidationIssue[] {
    return this.reported;
  }

  /** Every action of the pipeline in document order. */
  actions(): readonly ActionEntry[] {
    this.entries ??= this.document.stages.flatMap((stage, stageIndex) =>
      stage.actions.map((action, actionIndex) => ({
        stageIndex,
        actionIndex,
        stage,
        action,
        path: actionPath(stageIndex, actionIndex),
        type: this.registry.find(action.actionTypeId),
        runOrder: action.runOrder,
      })),
    );
    return this.entries;
  }
}

/** A validation rule: reads `ctx.document`, reports through `ctx.report`. */
export type ValidationRule = (ctx: ValidationContext) => void;
