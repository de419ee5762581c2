/** Runs `main()` in-process with captured stdout/stderr and an isolated environment. */
import type { Io } from "../../src/context";
import { main } from "../../src/main";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  fetch?: typeof fetch;
  onInterrupt?: Io["onInterrupt"];
  /** A terminal's answers to the secret prompts, in order (absent: no terminal). */
  secrets?: string[];
  /** The prompts shown for them. */
  prompts?: string[];
  /** Called after each write to stdout, with everything written so far. */
  onStdout?(stdout: string): void;
}

export async function run(args: string[], options: RunOptions = {}): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => {
      stdout += text;
      options.onStdout?.(stdout);
    },
    stderr: (text) => void (stderr += text),
    env: options.env ?? {},
    readStdin: async () => {
      if (options.stdin === undefined) throw new Error("the test gave no stdin");
      return options.stdin;
    },
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.onInterrupt ? { onInterrupt: options.onInterrupt } : {}),
    ...(options.secrets
      ? {
          readSecret: async (prompt: string) => {
            options.prompts?.push(prompt);
            const answer = options.secrets!.shift();
            if (answer === undefined) throw new Error(`the test gave no answer to ${JSON.stringify(prompt)}`);
            return answer;
          },
        }
      : {}),
  });
  return { code, stdout, stderr };
}
