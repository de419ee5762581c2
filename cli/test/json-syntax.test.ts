import { findJsonSyntaxError, positionOf } from "../src/json-syntax";

describe("findJsonSyntaxError", () => {
  it.each([
    '{"name":"a","stages":[]}',
    "[1, -2.5e+3, 0, true, false, null]",
    '  "text with \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9"  ',
    "\n{ }\n",
    "0",
  ])("accepts valid JSON %j", (text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(findJsonSyntaxError(text)).toBeNull();
  });

  it.each([
    ['{"a":1,}', 7, "unexpected '}', expected a property name in double quotes"],
    ['{"a" 1}', 5, "unexpected '1', expected ':' after the property name"],
    ['{"a":1 "b":2}', 7, "unexpected '\"', expected ',' or '}' after a property value"],
    ["[1 2]", 3, "unexpected '2', expected ',' or ']' after an array element"],
    ["[1,]", 3, "unexpected ']', expected a value"],
    ["{'a':1}", 1, "unexpected ''', expected a property name in double quotes"],
    ['{"a":', 5, "unexpected end of input, expected a value"],
    ['"abc', 4, "unterminated string"],
    ['"a\\x"', 2, "invalid escape in string"],
    ['"\\u12g4"', 1, "invalid \\u escape in string"],
    ['"a\tb"', 2, "control character in string (escape it)"],
    ["01", 1, "unexpected content after the JSON value"],
    ["-x", 1, "unexpected 'x', expected a digit"],
    ["1.", 2, "unexpected end of input, expected a digit after '.'"],
    ["1e+", 3, "unexpected end of input, expected a digit in the exponent"],
    ["tru", 3, "unexpected end of input, expected 'true'"],
    ["nul1", 3, "unexpected '1', expected 'null'"],
    ["{} {}", 3, "unexpected content after the JSON value"],
  ])("locates the error in %j", (text, offset, message) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(findJsonSyntaxError(text)).toEqual({ offset, message });
  });
});

describe("positionOf", () => {
  it("gives 1-based line and column", () => {
    const text = '{\n  "a": 1,\n  "b" 2\n}';
    expect(positionOf(text, 0)).toEqual({ line: 1, column: 1 });
    expect(positionOf(text, text.indexOf("2"))).toEqual({ line: 3, column: 7 });
    expect(positionOf(text, text.length)).toEqual({ line: 4, column: 2 });
  });
});
