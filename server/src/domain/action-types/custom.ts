/**
 * createCustomActionType's input, shaped like AWS's CreateCustomActionType, → an owner `Custom`
 * ActionTypeDefinition. Reports every problem at once, with paths like
 * `configurationProperties[2].name`. How many custom types exist is the persistence layer's check
 * (MAX_CUSTOM_ACTION_TYPES), since it needs the database.
 */
import { z } from "zod";
import type { ValidationIssue } from "../errors";
import {
  MAX_CONFIGURATION_KEY_LENGTH,
  MAX_CUSTOM_ACTION_CONFIGURATION_PROPERTIES,
  MAX_CUSTOM_ARTIFACTS_PER_ACTION,
} from "../limits";
import { ACTION_CATEGORIES } from "../pipeline/document";
import { orderIssues } from "../pipeline/issue-order";
import { nameProblem } from "../pipeline/names";
import { quote } from "../pipeline/paths";
import { strictObject, withDefault } from "../pipeline/schema";
import { fromZodIssues } from "../pipeline/zod-issues";
import type { ActionTypeDefinition, ArtifactBounds, ConfigurationProperty } from "./action-type";

export { MAX_CUSTOM_ACTION_TYPES } from "../limits";

/** AWS's bounds, kept so AWS definitions import unchanged. */
export const MAX_URL_TEMPLATE_LENGTH = 2048;
export const MAX_PROPERTY_DESCRIPTION_LENGTH = 160;

const urlTemplate = withDefault(z.string(), () => null);

const artifactBoundsSchema = strictObject({ minimumCount: z.number(), maximumCount: z.number() });

const customActionTypeSchema = strictObject({
  category: z.enum(ACTION_CATEGORIES),
  provider: z.string(),
  version: z.string(),
  settings: withDefault(
    strictObject({
      entityUrlTemplate: urlTemplate,
      executionUrlTemplate: urlTemplate,
      revisionUrlTemplate: urlTemplate,
      thirdPartyConfigurationUrl: urlTemplate,
    }),
    () => ({
      entityUrlTemplate: null,
      executionUrlTemplate: null,
      revisionUrlTemplate: null,
      thirdPartyConfigurationUrl: null,
    }),
  ),
  configurationProperties: withDefault(
    z.array(
      strictObject({
        name: z.string(),
        required: z.boolean(),
        // AWS marks "key" properties; Sluice identifies properties by name, so it is accepted and dropped.
        key: withDefault(z.boolean(), () => null),
        secret: z.boolean(),
        queryable: withDefault(z.boolean(), () => false),
        description: withDefault(z.string(), () => null),
        type: withDefault(z.enum(["String", "Number", "Boolean"]), () => "String" as const),
      }),
    ),
    () => [],
  ),
  inputArtifactDetails: artifactBoundsSchema,
  outputArtifactDetails: artifactBoundsSchema,
});

type CustomActionTypeInput = z.output<typeof customActionTypeSchema>;

export function parseCustomActionType(
  input: unknown,
): { ok: true; definition: ActionTypeDefinition } | { ok: false; issues: ValidationIssue[] } {
  const shape = customActionTypeSchema.safeParse(input, { reportInput: true });
  if (!shape.success) return { ok: false, issues: orderIssues(fromZodIssues(shape.error.issues)) };
  const parsed = shape.data;
  const issues = [
    ...nameIssues(parsed),
    ...settingsIssues(parsed),
    ...propertyIssues(parsed.configurationProperties),
    ...boundsIssues("inputArtifactDetails", parsed.inputArtifactDetails),
    ...boundsIssues("outputArtifactDetails", parsed.outputArtifactDetails),
    ...sourceIssues(parsed),
  ];
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    definition: {
      id: { category: parsed.category, owner: "Custom", provider: parsed.provider, version: parsed.version },
      description: null,
      configurationProperties: parsed.configurationProperties.map(
        ({ name, required, secret, queryable, description, type }): ConfigurationProperty => ({
          name,
          required,
          secret,
          queryable,
          description,
          type,
        }),
      ),
      inputArtifactDetails: parsed.inputArtifactDetails,
      outputArtifactDetails: parsed.outputArtifactDetails,
      settings: parsed.settings,
    },
  };
}

function nameIssues(parsed: CustomActionTypeInput): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const provider = nameProblem("provider", parsed.provider);
  if (provider) issues.push({ path: "provider", message: provider });
  const version = nameProblem("version", parsed.version);
  if (version) issues.push({ path: "version", message: version });
  return issues;
}

function settingsIssues(parsed: CustomActionTypeInput): ValidationIssue[] {
  return Object.entries(parsed.settings).flatMap(([key, value]) =>
    value !== null && (value.length === 0 || value.length > MAX_URL_TEMPLATE_LENGTH)
      ? [
          {
            path: `settings.${key}`,
            message: `${key} must be 1 to ${MAX_URL_TEMPLATE_LENGTH} characters long (or left out); it is ${value.length}.`,
          },
        ]
      : [],
  );
}

function propertyIssues(properties: CustomActionTypeInput["configurationProperties"]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (properties.length > MAX_CUSTOM_ACTION_CONFIGURATION_PROPERTIES) {
    issues.push({
      path: "configurationProperties",
      message: `A custom action type has at most ${MAX_CUSTOM_ACTION_CONFIGURATION_PROPERTIES} configuration properties; this one declares ${properties.length}.`,
      limit: true,
    });
  }
  const firstIndex = new Map<string, number>();
  let queryableIndex: number | undefined;
  properties.forEach((property, index) => {
    const at = `configurationProperties[${index}]`;
    const { name } = property;
    if (name.length === 0 || name.length > MAX_CONFIGURATION_KEY_LENGTH) {
      issues.push({
        path: `${at}.name`,
        message: `Property name ${quote(name)} must be 1 to ${MAX_CONFIGURATION_KEY_LENGTH} characters long, like a configuration key.`,
      });
    }
    const earlier = firstIndex.get(name);
    if (earlier !== undefined) {
      issues.push({
        path: `${at}.name`,
        message: `Property name ${quote(name)} is already declared by configurationProperties[${earlier}]; names must be unique.`,
      });
    } else firstIndex.set(name, index);
    if (property.description !== null && property.description.length > MAX_PROPERTY_DESCRIPTION_LENGTH) {
      issues.push({
        path: `${at}.description`,
        message: `The description of property ${quote(name)} is ${property.description.length} characters long; the limit is ${MAX_PROPERTY_DESCRIPTION_LENGTH}.`,
      });
    }
    if (property.queryable) {
      // As in CodePipeline: job workers select jobs by the queryable property, so it must always
      // have a value and must not be hidden.
      if (queryableIndex !== undefined) {
        issues.push({
          path: `${at}.queryable`,
          message: `Only one property can be queryable; configurationProperties[${queryableIndex}] already is.`,
        });
      } else queryableIndex = index;
      if (!property.required || property.secret) {
        issues.push({
          path: `${at}.queryable`,
          message: `Queryable property ${quote(name)} must be required and not secret.`,
        });
      }
    }
  });
  return issues;
}

function boundsIssues(
  field: "inputArtifactDetails" | "outputArtifactDetails",
  bounds: ArtifactBounds,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const key of ["minimumCount", "maximumCount"] as const) {
    const value = bounds[key];
    if (!Number.isInteger(value) || value < 0 || value > MAX_CUSTOM_ARTIFACTS_PER_ACTION) {
      // More than 5 is the quota "at most 5 for custom types"; a fraction or a negative is just wrong.
      const overQuota = Number.isInteger(value) && value > MAX_CUSTOM_ARTIFACTS_PER_ACTION;
      issues.push({
        path: `${field}.${key}`,
        message: `${field}.${key} must be an integer from 0 to ${MAX_CUSTOM_ARTIFACTS_PER_ACTION}; got ${value}.`,
        ...(overQuota ? { limit: true } : {}),
      });
    }
  }
  if (issues.length === 0 && bounds.minimumCount > bounds.maximumCount) {
    issues.push({
      path: field,
      message: `${field}.minimumCount (${bounds.minimumCount}) is more than maximumCount (${bounds.maximumCount}).`,
    });
  }
  return issues;
}

/** Sluice's addition: a Source action runs first, so nothing could feed it an input artifact. */
function sourceIssues(parsed: CustomActionTypeInput): ValidationIssue[] {
  if (parsed.category !== "Source" || parsed.inputArtifactDetails.maximumCount === 0) return [];
  return [
    {
      path: "inputArtifactDetails.maximumCount",
      message: `A Source action type takes no input artifacts (it runs in the first stage); set maximumCount to 0, not ${parsed.inputArtifactDetails.maximumCount}.`,
    },
  ];
}
