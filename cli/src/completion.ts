/**
 * `sluice completion bash|zsh`: a completion script generated from the command tree (commands, their
 * visible options, the choices of an option that has them), so a new command or option completes
 * without editing anything here.
 */
import { Argument, type Command, type Option } from "commander";

interface Spec {
  name: string;
  description: string;
  options: OptionSpec[];
  /** The choices of the command's first argument, if it has some (e.g. completion's shell). */
  argumentChoices: readonly string[] | undefined;
}

interface OptionSpec {
  flag: string;
  description: string;
  takesValue: boolean;
  choices: readonly string[] | undefined;
  /** The value names a file (file://path or -). */
  file: boolean;
}

function optionSpecs(options: readonly Option[]): OptionSpec[] {
  return options
    .filter((o) => !o.hidden && o.long !== undefined)
    .map((o) => ({
      flag: o.long!,
      description: o.description.split("\n")[0] ?? "",
      takesValue: o.required || o.optional,
      choices: o.argChoices,
      file: /^--cli-input-/.test(o.long!),
    }));
}

const HELP: OptionSpec = {
  flag: "--help",
  description: "display help",
  takesValue: false,
  choices: undefined,
  file: false,
};

function specs(program: Command): { globals: OptionSpec[]; commands: Spec[] } {
  return {
    globals: optionSpecs(program.options),
    commands: program.commands.map((c) => ({
      name: c.name(),
      description: c.description(),
      options: [...optionSpecs(c.options), HELP],
      argumentChoices: c.registeredArguments[0]?.argChoices,
    })),
  };
}

export function bashCompletion(program: Command): string {
  const { globals, commands } = specs(program);
  const valueCases: string[] = [];
  const addValueCase = (pattern: string, option: OptionSpec) => {
    if (option.choices)
      valueCases.push(
        `    ${pattern}) COMPREPLY=($(compgen -W "${option.choices.join(" ")}" -- "$cur")); return ;;`,
      );
    else if (option.file) valueCases.push(`    ${pattern}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`);
    else if (option.takesValue) valueCases.push(`    ${pattern}) return ;;`);
  };
  for (const command of commands) {
    if (!command.argumentChoices) continue;
    const words = command.argumentChoices.join(" ");
    valueCases.push(
      `    "${command.name}:${command.name}") COMPREPLY=($(compgen -W "${words}" -- "$cur")); return ;;`,
    );
  }
  for (const command of commands)
    for (const option of command.options) addValueCase(`"${command.name}:${option.flag}"`, option);
  for (const option of globals) addValueCase(`*":${option.flag}"`, option);
  const optionCases = commands.map(
    (c) => `    ${c.name}) opts="$opts ${c.options.map((o) => o.flag).join(" ")}" ;;`,
  );
  return `# bash completion for sluice. Load it with: source <(sluice completion bash)
_sluice() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local commands="${commands.map((c) => c.name).join(" ")}"
  local cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ " $commands " == *" \${COMP_WORDS[i]} "* ]]; then cmd="\${COMP_WORDS[i]}"; break; fi
  done
  case "$cmd:$prev" in
${valueCases.join("\n")}
  esac
  local opts="${globals.map((o) => o.flag).join(" ")}"
  case "$cmd" in
${optionCases.join("\n")}
  esac
  if [[ -z "$cmd" && "$cur" != -* ]]; then
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  fi
}
complete -F _sluice sluice
`;
}

/** Text inside a single-quoted zsh word, as an _arguments description (no brackets or colons). */
function zshText(text: string): string {
  return text.replace(/\[/g, "(").replace(/\]/g, ")").replace(/:/g, "\\:").replace(/'/g, "'\\''");
}

function zshOption(option: OptionSpec): string {
  const head = `${option.flag}[${zshText(option.description)}]`;
  if (!option.takesValue) return `'${head}'`;
  const action = option.choices ? `(${option.choices.join(" ")})` : option.file ? "_files" : "";
  return `'${head}:value:${action}'`;
}

export function zshCompletion(program: Command): string {
  const { globals, commands } = specs(program);
  const globalSpecs = globals.map(zshOption).join(" \\\n      ");
  const cases = commands.map(
    (c) =>
      `    ${c.name})\n      _arguments ${c.argumentChoices ? `'1:argument:(${c.argumentChoices.join(" ")})' ` : ""}${[...c.options, ...globals].map(zshOption).join(" \\\n        ")} ;;`,
  );
  return `#compdef sluice
# zsh completion for sluice. Load it with: source <(sluice completion zsh)
# (or save it as _sluice in a directory of your $fpath).
_sluice() {
  local context state state_descr line
  typeset -A opt_args
  local -a commands
  commands=(
${commands.map((c) => `    '${c.name}:${zshText(c.description)}'`).join("\n")}
  )
  _arguments -C ${globalSpecs} \\
      '1:command:->command' '*::option:->option'
  case $state in
  command) _describe -t commands 'sluice command' commands ;;
  option)
    case $words[1] in
${cases.join("\n")}
    esac ;;
  esac
}
if [[ "$funcstack[1]" == "_sluice" ]]; then _sluice "$@"; else compdef _sluice sluice; fi
`;
}

export function register(program: Command, write: (text: string) => void): void {
  program
    .command("completion")
    .description("Print a shell completion script: source <(sluice completion bash)")
    .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh"]))
    .action((shell: string, _options: unknown, command: Command) => {
      const root = command.parent!;
      write(shell === "bash" ? bashCompletion(root) : zshCompletion(root));
    });
}
