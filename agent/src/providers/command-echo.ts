/**
 * Echoing each command of a Shell job just before it runs (as CodeBuild's "Running command …"), so
 * the log shows which command failed right above its output. Bash does the parsing: a DEBUG trap set
 * on the script's first line prints each simple command of the top-level shell (`$BASH_COMMAND`, as
 * written), each of its lines after a marker byte, on stdout, in order with the commands' own output.
 * `commandEchoSink` turns the marked lines into the log's system lines (`$ make all`) and passes the
 * rest on untouched.
 */
import { StringDecoder } from "node:string_decoder";
import type { LogSink } from "./types";

/** ASCII record separator: starts each echoed line on stdout; programs do not print it. */
const MARK = "\x1e";

/**
 * Prepended to the commands on their first line (no newline), so that bash's line numbers in error
 * messages stay those of the Commands configuration. Subshells and functions do not inherit the
 * trap (no `set -T`): what they run is part of the command echoed for them. Bash keeps `$?` across a
 * trap, and a `||` list never trips errexit.
 */
export const ECHO_TRAP =
  "trap \"[[ \\$BASH_SUBSHELL -ne 0 ]] || printf '\\036%s\\n' \\\"\\${BASH_COMMAND//\\$'\\n'/\\$'\\n\\036'}\\\"\" DEBUG; ";

/** A sink that turns the trap's marked stdout lines into system lines `$ <command>`. */
export function commandEchoSink(log: LogSink): LogSink {
  const decoder = new StringDecoder("utf8");
  let echoed: string | null = null; // the marked line being read, once its marker was seen
  return {
    system: (line) => log.system(line),
    write(stream, data) {
      if (stream !== "stdout") return log.write(stream, data);
      let text = typeof data === "string" ? data : decoder.write(Buffer.from(data));
      while (text.length > 0) {
        if (echoed !== null) {
          const end = text.indexOf("\n");
          if (end < 0) {
            echoed += text;
            return;
          }
          const line = echoed + text.slice(0, end);
          if (line !== "") log.system(`$ ${line}`); // a heredoc's command ends with a newline
          echoed = null;
          text = text.slice(end + 1);
          continue;
        }
        const mark = text.indexOf(MARK);
        if (mark < 0) return log.write("stdout", text);
        if (mark > 0) log.write("stdout", text.slice(0, mark));
        echoed = "";
        text = text.slice(mark + 1);
      }
    },
  };
}
