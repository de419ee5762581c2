/** The policy language: documents, resource names, the evaluator, managed policies, operations. */
export * from "./actions";
export * from "./document";
export * from "./evaluator";
export * from "./managed";
export * from "./operations";
export * from "./principal";
export * from "./simulate";
export * from "./srn";
export { validatePolicy, type PolicyValidation } from "./validate";
export { resourcePatternProblem } from "./resource-pattern";
export { actionPatternProblem, actionsMatching } from "./action-pattern";
export * from "./trust";
