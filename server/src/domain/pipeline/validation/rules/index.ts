/**
 * Every validation rule, in the order they run: structure first (PIPELINE-MODEL.md rules 1–7 and
 * the quotas), then the flow of artifacts and variables (8, 11), then action types and their
 * configuration (9, 10, 12), then triggers. Issues are put in document order afterwards, so this
 * order only decides which of two issues at the same path comes first.
 */
import type { ValidationRule } from "../context";
import { artifactCountsRule } from "./artifact-counts";
import { configurationSizeRule } from "./configuration-size";
import { configurationValueTypesRule } from "./configuration-value-types";
import { firstStageSourcesRule } from "./first-stage-sources";
import { inputArtifactsRule } from "./input-artifacts";
import { knownActionTypeRule } from "./known-action-type";
import { knownConfigurationKeysRule } from "./known-configuration-keys";
import { maskedSecretsRule } from "./masked-secrets";
import { nonSourceActionRule } from "./non-source-action";
import { parallelActionCountRule } from "./parallel-action-count";
import { pipelineActionCountRule } from "./pipeline-action-count";
import { requiredConfigurationRule } from "./required-configuration";
import { runOrderRule } from "./run-order";
import { sourceActionsFirstStageRule } from "./source-actions-first-stage";
import { stageActionCountRule } from "./stage-action-count";
import { stageCountRule } from "./stage-count";
import { timeoutRule } from "./timeout";
import { retryPolicyRule } from "./retry-policy";
import { schedulesRule } from "./schedules";
import { triggerFiltersRule } from "./trigger-filters";
import { triggerSourceActionRule } from "./trigger-source-action";
import { uniqueActionNamesRule } from "./unique-action-names";
import { uniqueNamespacesRule } from "./unique-namespaces";
import { uniqueInputArtifactsRule } from "./unique-input-artifacts";
import { uniqueOutputArtifactsRule } from "./unique-output-artifacts";
import { uniqueStageNamesRule } from "./unique-stage-names";
import { uniqueVariableNamesRule } from "./unique-variable-names";
import { validNamesRule } from "./valid-names";
import { variableCountRule } from "./variable-count";
import { variableReferencesRule } from "./variable-references";
import { variableValuesRule } from "./variable-values";

export const specifiedRules: readonly ValidationRule[] = Object.freeze([
  // Names and counts
  validNamesRule,
  stageCountRule, // rule 1
  firstStageSourcesRule, // rule 2
  sourceActionsFirstStageRule, // rule 3
  nonSourceActionRule, // rule 4
  uniqueStageNamesRule, // rule 5
  uniqueActionNamesRule, // rule 5
  uniqueNamespacesRule, // rule 5
  uniqueOutputArtifactsRule, // rule 5
  stageActionCountRule, // rule 6
  pipelineActionCountRule,
  runOrderRule, // rule 7
  parallelActionCountRule,
  variableCountRule,
  uniqueVariableNamesRule,
  variableValuesRule,
  // Flow
  inputArtifactsRule, // rule 8
  uniqueInputArtifactsRule,
  variableReferencesRule, // rule 11
  // Action types and configuration
  knownActionTypeRule, // rule 12
  artifactCountsRule, // rule 9
  requiredConfigurationRule, // rule 10
  knownConfigurationKeysRule, // rule 10
  configurationSizeRule,
  configurationValueTypesRule,
  maskedSecretsRule,
  timeoutRule,
  retryPolicyRule,
  schedulesRule,
  // Triggers
  triggerSourceActionRule,
  triggerFiltersRule,
]);
