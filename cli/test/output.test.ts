import { CommanderError } from "commander";
import { ConnectionError, GraphQLRequestError, ResponseError } from "../src/client";
import { CliError, UsageError } from "../src/errors";
import { exitCodeFor, formatError, formatJson } from "../src/output";

describe("formatJson", () => {
  it("pretty-prints with 2 spaces and a trailing newline", () => {
    expect(formatJson({ a: [1, { b: null }] })).toBe(
      '{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ]\n}\n',
    );
  });
});

describe("formatError", () => {
  it("prints a GraphQL error with its code", () => {
    const err = new GraphQLRequestError(
      [{ message: "pipeline a not found", extensions: { code: "NOT_FOUND" } }],
      200,
    );
    expect(formatError(err)).toBe("error: pipeline a not found (NOT_FOUND)\n");
  });

  it("prints one line per validation issue", () => {
    const err = new GraphQLRequestError(
      [
        {
          message: "Invalid input: stages[0].name: is required (and 1 more problem)",
          extensions: {
            code: "BAD_USER_INPUT",
            validationErrors: [
              { path: "stages[0].name", message: "is required" },
              { path: "stages[1].actions[0].runOrder", message: "must be between 1 and 999" },
            ],
          },
        },
      ],
      200,
    );
    expect(formatError(err)).toBe(
      "error: Invalid input: stages[0].name: is required (and 1 more problem) (BAD_USER_INPUT)\n" +
        "  stages[0].name: is required\n" +
        "  stages[1].actions[0].runOrder: must be between 1 and 999\n",
    );
  });

  it("prints a validation issue without a path as its message alone", () => {
    const err = new GraphQLRequestError(
      [
        {
          message: "bad",
          extensions: { code: "BAD_USER_INPUT", validationErrors: [{ path: "", message: "empty" }] },
        },
      ],
      400,
    );
    expect(formatError(err)).toBe("error: bad (BAD_USER_INPUT)\n  empty\n");
  });

  it("prints every error of the response, with or without a code", () => {
    const err = new GraphQLRequestError(
      [{ message: "first", extensions: { code: "FORBIDDEN" } }, { message: "second" }],
      200,
    );
    expect(formatError(err)).toBe("error: first (FORBIDDEN)\nerror: second\n");
    expect(err.code).toBe("FORBIDDEN");
  });

  it("names the endpoint of a connection failure", () => {
    const err = new ConnectionError("http://127.0.0.1:9/graphql", "connect ECONNREFUSED 127.0.0.1:9");
    expect(formatError(err)).toBe(
      "error: could not connect to http://127.0.0.1:9/graphql: connect ECONNREFUSED 127.0.0.1:9\n",
    );
  });

  it("prints other errors by message", () => {
    expect(formatError(new UsageError("bad option"))).toBe("error: bad option\n");
    expect(formatError(new ResponseError("http://h/graphql", 502, "not JSON: <html>"))).toBe(
      "error: unexpected response from http://h/graphql (HTTP 502): not JSON: <html>\n",
    );
    expect(formatError("plain")).toBe("error: plain\n");
  });
});

describe("exitCodeFor", () => {
  it("is 2 for usage errors and 1 otherwise", () => {
    expect(exitCodeFor(new UsageError("x"))).toBe(2);
    expect(exitCodeFor(new CommanderError(1, "commander.unknownOption", "x"))).toBe(2);
    expect(exitCodeFor(new GraphQLRequestError([{ message: "x" }], 200))).toBe(1);
    expect(exitCodeFor(new ConnectionError("e", "r"))).toBe(1);
    expect(exitCodeFor(new CliError("x"))).toBe(1);
    expect(exitCodeFor(new Error("x"))).toBe(1);
  });
});
