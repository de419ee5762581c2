/**
 * `--cli-input-json`, `--cli-input-yaml` and `--generate-cli-skeleton` for every command, derived from
 * the options each command declares: an input key is an option's name in camelCase
 * (`--pipeline-execution-id` → `pipelineExecutionId`, the AWS CLI's names included), so a new command
 * gets them for free. Options given on the command line win over the input's keys.
 *
 * The input is read before commander parses the command's own options (a `preSubcommand` hook): that
 * way an option the command requires may come from the input.
 */
import { CommanderError, Option, type Command } from "commander";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { isObject } from "./client";
import { UsageError } from "./errors";
import { readCliInputJson, type InputSources } from "./input";
import { formatJson } from "./output";
import { DOCUMENT_SKELETONS, OUTPUT_SKELETONS } from "./output-skeletons";

const INPUT_JSON = "--cli-input-json";
const INPUT_YAML = "--cli-input-yaml";
const SKELETON = "--generate-cli-skeleton";
const SKELETON_KINDS = ["input", "yaml-input", "output"] as const;
/** Options that are not part of a command's input. */
const NOT_INPUT = new Set(["help", "cliInputJson", "cliInputYaml", "generateCliSkeleton"]);

/**
 * Adds the options to every command of `program`. A command that takes a document through its own
 * `--cli-input-json` (create-pipeline, ...) keeps it; its skeleton is the document's.
 */
export function addInputOptions(
  program: Command,
  sources: InputSources,
  write: (text: string) => void,
): void {
  const generic = new Set<Command>();
  const withInput = new Set<Command>(program.commands);
  for (const command of program.commands) {
    if (!command.options.some((o) => o.long === INPUT_JSON)) {
      command.option(
        `${INPUT_JSON} <json>`,
        "option values as JSON: file://path, - (stdin) or the JSON itself",
      );
      generic.add(command);
    }
    command.option(
      `${INPUT_YAML} <yaml>`,
      "option values as YAML: file://path, - (stdin) or the YAML itself",
    );
    command.addOption(
      new Option(`${SKELETON} [kind]`, "print a template of this command's input (or output) and exit")
        .choices(SKELETON_KINDS)
        .preset("input"),
    );
  }
  program.hook("preSubcommand", async (_program, command) => {
    if (!withInput.has(command)) return; // a command added later (completion) has none of this
    const args = command.parent?.args.slice(1) ?? [];
    const skeleton = optionArgument(args, SKELETON, true);
    if (skeleton !== undefined) {
      write(skeletonText(command, skeleton === "" ? "input" : skeleton, generic.has(command)));
      throw new CommanderError(0, "sluice.skeleton", "");
    }
    const json = generic.has(command) ? optionArgument(args, INPUT_JSON, false) : undefined;
    const yaml = optionArgument(args, INPUT_YAML, false);
    if (json !== undefined && yaml !== undefined)
      throw new UsageError(`give ${INPUT_JSON} or ${INPUT_YAML}, not both`);
    if (json !== undefined) applyInput(command, await readCliInputJson(json, sources), INPUT_JSON);
    if (yaml !== undefined) applyInput(command, await readYaml(yaml, sources), INPUT_YAML);
  });
}

/**
 * The value of `flag` in the command's arguments (`--flag value` or `--flag=value`); with an optional
 * argument, "" when the flag has none. Undefined when absent.
 */
function optionArgument(args: string[], flag: string, optional: boolean): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return undefined;
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
    if (arg !== flag) continue;
    const next = args[i + 1];
    if (optional)
      return next !== undefined && (SKELETON_KINDS as readonly string[]).includes(next) ? next : "";
    if (next === undefined) return undefined; // commander reports the missing argument
    return next;
  }
  return undefined;
}

async function readYaml(spec: string, sources: InputSources): Promise<unknown> {
  const text = await readText(spec, sources);
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    throw new UsageError(`invalid YAML in ${INPUT_YAML}: ${(err as Error).message}`);
  }
}

async function readText(spec: string, sources: InputSources): Promise<string> {
  if (spec === "-") return sources.readStdin();
  if (!spec.startsWith("file://")) return spec;
  const path = spec.slice("file://".length);
  const read =
    sources.readFile ?? (async (p: string) => (await import("node:fs/promises")).readFile(p, "utf8"));
  try {
    return await read(path);
  } catch (err) {
    throw new UsageError(`cannot read ${spec}: ${(err as Error).message}`);
  }
}

/** The command's input options, by input key (the option's camelCase name). */
function inputOptions(command: Command): Map<string, Option> {
  const options = new Map<string, Option>();
  for (const option of command.options) {
    if (!option.long || NOT_INPUT.has(option.attributeName())) continue;
    options.set(option.attributeName(), option);
  }
  return options;
}

/** Sets the options the input names, unless given on the command line (which comes after). */
function applyInput(command: Command, input: unknown, source: string): void {
  if (!isObject(input)) throw new UsageError(`${source} must be an object of option values`);
  const options = inputOptions(command);
  for (const [key, value] of Object.entries(input)) {
    const option = options.get(key);
    if (!option) {
      const known = [...options.keys()].join(", ");
      throw new UsageError(
        `${source}: ${command.name()} has no option ${JSON.stringify(key)} (known: ${known})`,
      );
    }
    command.setOptionValueWithSource(key, optionValue(option, value, `${source} ${key}`), "config");
  }
}

/** An input value as the option would hold it had it been given on the command line. */
function optionValue(option: Option, value: unknown, where: string): unknown {
  if (option.isBoolean() || option.negate) {
    if (typeof value !== "boolean") throw new UsageError(`${where}: expected true or false`);
    return option.negate ? value : value || undefined;
  }
  const values = Array.isArray(value) ? value : [value];
  // An object is an option's JSON form (tag-resource's `tags: [{ "key", "value" }]`, as the AWS CLI's
  // input has them): only an option with a parser of its own reads it.
  const readable = (v: unknown) =>
    typeof v === "string" || typeof v === "number" || (option.parseArg !== undefined && isObject(v));
  if (!values.every(readable)) {
    throw new UsageError(
      `${where}: expected a string or number${Array.isArray(value) ? "" : " (or a list)"}`,
    );
  }
  const texts = values.map((v) => (isObject(v) ? JSON.stringify(v) : String(v)));
  if (option.argChoices && !texts.every((t) => option.argChoices!.includes(t))) {
    throw new UsageError(`${where}: expected one of ${option.argChoices.join(", ")}`);
  }
  if (!option.parseArg) {
    if (texts.length !== 1) throw new UsageError(`${where}: expected one value`);
    return texts[0];
  }
  let parsed: unknown = undefined;
  for (const text of texts) {
    try {
      parsed = option.parseArg(text, parsed);
    } catch (err) {
      throw new UsageError(`${where}: ${(err as Error).message}`);
    }
  }
  return parsed;
}

/** A template value for an option: its default, else by what its parser accepts. */
function placeholder(option: Option): unknown {
  if (option.negate) return true;
  if (option.isBoolean()) return false;
  if (option.defaultValue !== undefined) return option.defaultValue;
  if (option.argChoices) return option.argChoices[0];
  if (!option.parseArg) return "";
  for (const sample of ["1", "Name=Value", "key=Key,value=Value", "Succeeded"]) {
    try {
      const parsed = option.parseArg(sample, undefined);
      if (Array.isArray(parsed)) return [sample === "1" ? "" : sample];
      if (typeof parsed === "number") return 0;
    } catch {
      // try the next kind of value
    }
  }
  return "";
}

function skeletonText(command: Command, kind: string, generic: boolean): string {
  if (kind === "output") {
    const output = OUTPUT_SKELETONS[command.name()];
    if (output === undefined) throw new UsageError(`${command.name()} has no output skeleton`);
    return formatJson(output);
  }
  const input: Record<string, unknown> = {};
  if (generic) {
    for (const [key, option] of inputOptions(command)) if (!option.hidden) input[key] = placeholder(option);
  } else {
    // create-pipeline and the like: --cli-input-json is a document (AWS CLI form accepted).
    Object.assign(input, DOCUMENT_SKELETONS[command.name()] ?? {});
  }
  return kind === "yaml-input" ? stringifyYaml(input) : formatJson(input);
}
