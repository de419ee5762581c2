/**
 * Tags on pipelines, with CodePipeline's rules (its Tag, TagResource and UntagResource): a key of
 * 1–128 characters, a value of 0–256, at most 50 tags a resource, keys unique; keys starting with
 * `aws:` or `sluice:` (in any case) are reserved. Keys and values hold letters, digits, spaces and
 * `_ . : / = + - @` (the character set AWS allows in tags).
 */
import type { ValidationIssue } from "../errors";
import { parseSrn, SRN_PREFIX } from "../policy/srn";

export interface Tag {
  key: string;
  value: string;
}

export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;
export const MAX_TAGS_PER_RESOURCE = 50;
export const RESERVED_TAG_PREFIXES = ["aws:", "sluice:"] as const;

const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const ALLOWED = "letters, digits, spaces and _ . : / = + - @";

/** Length in characters (code points), as AWS counts them. */
const length = (text: string) => [...text].length;

function keyIssues(key: string, path: string): ValidationIssue[] {
  if (key.length === 0) return [{ path, message: "A tag key cannot be empty." }];
  if (length(key) > MAX_TAG_KEY_LENGTH)
    return [
      {
        path,
        message: `A tag key has at most ${MAX_TAG_KEY_LENGTH} characters; this one has ${length(key)}.`,
      },
    ];
  if (!TAG_TEXT.test(key)) return [{ path, message: `A tag key holds only ${ALLOWED}.` }];
  const reserved = RESERVED_TAG_PREFIXES.find((prefix) => key.toLowerCase().startsWith(prefix));
  if (reserved) return [{ path, message: `Tag keys starting with "${reserved}" are reserved.` }];
  return [];
}

function valueIssues(value: string, path: string): ValidationIssue[] {
  if (length(value) > MAX_TAG_VALUE_LENGTH)
    return [
      {
        path,
        message: `A tag value has at most ${MAX_TAG_VALUE_LENGTH} characters; this one has ${length(value)}.`,
      },
    ];
  if (!TAG_TEXT.test(value)) return [{ path, message: `A tag value holds only ${ALLOWED}.` }];
  return [];
}

/**
 * Every problem of a list of tags given to createPipeline or tagResource, each at its path
 * (`tags[2].key`); more than 50 is a quota (`limit`: LIMIT_EXCEEDED when it is the only problem).
 */
export function tagIssues(tags: readonly Tag[], at = "tags"): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (tags.length > MAX_TAGS_PER_RESOURCE)
    issues.push({
      path: at,
      message: `A resource has at most ${MAX_TAGS_PER_RESOURCE} tags; ${tags.length} were given.`,
      limit: true,
    });
  const first = new Map<string, number>();
  tags.forEach((tag, i) => {
    issues.push(...keyIssues(tag.key, `${at}[${i}].key`), ...valueIssues(tag.value, `${at}[${i}].value`));
    const earlier = first.get(tag.key);
    if (earlier === undefined) first.set(tag.key, i);
    else
      issues.push({
        path: `${at}[${i}].key`,
        message: `The key ${JSON.stringify(tag.key)} is already given at ${at}[${earlier}].`,
      });
  });
  return issues;
}

/** Every problem of the keys given to untagResource, each at its path (`tagKeys[1]`). */
export function tagKeyIssues(keys: readonly string[], at = "tagKeys"): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (keys.length > MAX_TAGS_PER_RESOURCE)
    issues.push({
      path: at,
      message: `At most ${MAX_TAGS_PER_RESOURCE} keys can be removed at once; ${keys.length} were given.`,
    });
  keys.forEach((key, i) => issues.push(...keyIssues(key, `${at}[${i}]`)));
  return issues;
}

/** The tags a resource holds after `added` are set on `current`: a key given again takes the new value. */
export function mergeTags(current: readonly Tag[], added: readonly Tag[]): Tag[] {
  const byKey = new Map(current.map((t) => [t.key, t.value]));
  for (const tag of added) byKey.set(tag.key, tag.value);
  return [...byKey].map(([key, value]) => ({ key, value }));
}

/**
 * The pipeline a tagging operation names: its SRN, `srn:sluice:<account>:pipeline/<name>` (the
 * form `Pipeline.srn` shows), `pipeline/<name>` in the pipelines' account, or the pipelineArn
 * `get-pipeline --format aws` prints for it, `arn:sluice:codepipeline:::<name>`
 * (aws/export.ts). Null for anything else (a stage, another type of resource, a malformed name).
 */
export function taggablePipeline(resource: string): { account: string | null; name: string } | null {
  if (resource.startsWith(SRN_PREFIX)) {
    const srn = parseSrn(resource);
    if (!srn || srn.resource.type !== "pipeline" || srn.resource.stage !== undefined) return null;
    return { account: srn.account, name: srn.resource.pipeline };
  }
  const short = /^(?:pipeline\/|arn:sluice:codepipeline:::)([^/:*?]+)$/.exec(resource);
  return short ? { account: null, name: short[1]! } : null;
}
