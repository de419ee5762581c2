import { execFileSync } from "node:child_process";
import { run } from "./helpers/run";

/** Runs the generated bash completion for the words typed so far (the last one being completed). */
function complete(script: string, words: string[]): string[] {
  const program = `${script}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})
COMP_CWORD=${words.length - 1}
_sluice
printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync("bash", ["-c", program], { encoding: "utf8" }).split("\n").filter(Boolean);
}

describe("completion", () => {
  let bash: string;
  beforeAll(async () => {
    const result = await run(["completion", "bash"]);
    expect(result.code).toBe(0);
    bash = result.stdout;
  });

  it("bash: completes command names, each command's options, the globals, and choices", () => {
    expect(complete(bash, ["sluice", "list-pipeline-e"])).toEqual(["list-pipeline-executions"]);
    expect(complete(bash, ["sluice", "list-pipeline-executions", "--pa"])).toEqual(["--page-size"]);
    expect(complete(bash, ["sluice", "--output", "table", "get-pipeline", "--for"])).toEqual(["--format"]);
    expect(complete(bash, ["sluice", "get-pipeline", "--format", ""])).toEqual(["sluice", "aws"]);
    expect(complete(bash, ["sluice", "get-pipeline-state", "--output", "t"])).toEqual(["text", "table"]);
    expect(complete(bash, ["sluice", "get-pipeline-state", "--q"])).toEqual(["--query"]);
    expect(complete(bash, ["sluice", "logs", "--fol"])).toEqual(["--follow"]);
    expect(complete(bash, ["sluice", "completion", ""])).toEqual(["bash", "zsh"]);
    expect(complete(bash, ["sluice", "get-pipeline", "--name", ""])).toEqual([]); // a free value
  });

  it("bash: hidden AWS aliases are accepted but not offered", () => {
    expect(complete(bash, ["sluice", "list-pipeline-executions", "--pipeline-n"])).toEqual([]);
  });

  it("zsh: a compdef script with every command and its options", async () => {
    const result = await run(["completion", "zsh"]);
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith("#compdef sluice\n")).toBe(true);
    expect(result.stdout).toContain("'list-pipeline-executions:List a pipeline");
    expect(result.stdout).toMatch(/list-pipeline-executions\)\n\s+_arguments '--name\[pipeline name/);
    expect(result.stdout).toContain(
      "'--max-items[stop after this many items; the output then has a NextToken]:value:'",
    );
    expect(result.stdout).toContain("'--output[");
    expect(result.stdout).toContain(":value:(json text table yaml)'");
    expect(result.stdout).toContain("'1:argument:(bash zsh)'");
  });

  it("an unknown shell exits 2", async () => {
    const result = await run(["completion", "fish"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'fish' is invalid for argument 'shell'. Allowed choices are bash, zsh.");
  });
});
