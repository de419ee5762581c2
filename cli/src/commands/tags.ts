/**
 * Tags on pipelines, as `aws codepipeline` has them:
 *   sluice tag-resource --resource-arn R --tags key=team,value=payments key=tier,value=1
 *   sluice untag-resource --resource-arn R --tag-keys team tier
 *   sluice list-tags-for-resource --resource-arn R
 * R is the pipeline's SRN (`srn:sluice:default:pipeline/NAME`, `Pipeline.srn`), `pipeline/NAME`, or
 * the `pipelineArn` that `get-pipeline --format aws` prints. tag-resource and untag-resource print
 * nothing, as the AWS CLI's; list-tags-for-resource prints `{ "tags": [{ "key", "value" }] }`.
 */
import { InvalidArgumentError, type Command } from "commander";
import { isObject } from "../client";
import type { ContextFactory } from "../context";

export const TAG_RESOURCE_MUTATION =
  "mutation($resourceArn:String!,$tags:[TagInput!]!){ tagResourceV2(input:{resourceArn:$resourceArn,tags:$tags}){ resourceTags{ resourceArn } } }";
export const UNTAG_RESOURCE_MUTATION =
  "mutation($resourceArn:String!,$tagKeys:[String!]!){ untagResourceV2(input:{resourceArn:$resourceArn,tagKeys:$tagKeys}){ resourceTags{ resourceArn } } }";
export const LIST_TAGS_QUERY =
  "query($resourceArn:String!){ listTagsForResource(resourceArn:$resourceArn){ tags{ key value } } }";

export interface Tag {
  key: string;
  value: string;
}

const SHAPE = 'key=K,value=V (repeatable), or JSON: [{"key":"K","value":"V"}]';

function tagOf(value: unknown): Tag {
  if (!isObject(value) || typeof value["key"] !== "string" || typeof value["value"] !== "string")
    throw new InvalidArgumentError(`expected ${SHAPE}.`);
  return { key: value["key"], value: value["value"] };
}

/**
 * Commander argument parser for `--tags`: each argument is the AWS CLI's shorthand `key=K,value=V`
 * (`value=` may be empty) or its JSON form, one tag or a list; collects them in the order given.
 */
export function tagArguments(text: string, previous: Tag[] | undefined): Tag[] {
  const trimmed = text.trim();
  let tags: Tag[];
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new InvalidArgumentError(`expected ${SHAPE}.`);
    }
    tags = Array.isArray(parsed) ? parsed.map(tagOf) : [tagOf(parsed)];
  } else {
    const fields = new Map<string, string>();
    for (const part of text.split(",")) {
      const at = part.indexOf("=");
      const name = at > 0 ? part.slice(0, at).trim().toLowerCase() : "";
      if ((name !== "key" && name !== "value") || fields.has(name))
        throw new InvalidArgumentError(`expected ${SHAPE}.`);
      fields.set(name, part.slice(at + 1));
    }
    if (!fields.has("key") || !fields.has("value")) throw new InvalidArgumentError(`expected ${SHAPE}.`);
    tags = [{ key: fields.get("key")!, value: fields.get("value")! }];
  }
  return [...(previous ?? []), ...tags];
}

/** Commander argument parser for `--tag-keys`: collects the keys in the order given. */
export function tagKeyArguments(key: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), key];
}

const RESOURCE =
  "the pipeline: srn:sluice:default:pipeline/NAME, pipeline/NAME or the pipelineArn of get-pipeline --format aws";

export function register(program: Command, context: ContextFactory): void {
  program
    .command("tag-resource")
    .description("Add tags to a pipeline, or give keys it holds new values (at most 50). Prints nothing.")
    .requiredOption("--resource-arn <arn>", RESOURCE)
    .requiredOption("--tags <tags...>", SHAPE, tagArguments)
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { resourceArn, tags } = command.opts<{ resourceArn: string; tags: Tag[] }>();
      await ctx.request(TAG_RESOURCE_MUTATION, { resourceArn, tags });
    });

  program
    .command("untag-resource")
    .description("Remove tags from a pipeline by key (a key it lacks is ignored). Prints nothing.")
    .requiredOption("--resource-arn <arn>", RESOURCE)
    .requiredOption("--tag-keys <keys...>", "the keys to remove", tagKeyArguments)
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { resourceArn, tagKeys } = command.opts<{ resourceArn: string; tagKeys: string[] }>();
      await ctx.request(UNTAG_RESOURCE_MUTATION, { resourceArn, tagKeys });
    });

  program
    .command("list-tags-for-resource")
    .description("List a pipeline's tags, by key.")
    .requiredOption("--resource-arn <arn>", RESOURCE)
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { resourceArn } = command.opts<{ resourceArn: string }>();
      const data = await ctx.request<{ listTagsForResource: { tags: Tag[] } }>(LIST_TAGS_QUERY, {
        resourceArn,
      });
      ctx.print({ tags: data.listTagsForResource.tags });
    });
}
