/** Runs `main()` in-process with captured stdout/stderr and an isolated environment. */
import { main } from "../../src/main";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
}

export async function run(args: string[], options: RunOptions = {}): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env: options.env ?? {},
    readStdin: async () => {
      if (options.stdin === undefined) throw new Error("the test gave no stdin");
      return options.stdin;
    },
  });
  return { code, stdout, stderr };
}
