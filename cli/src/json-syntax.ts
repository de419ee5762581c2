/**
 * Locates the first syntax error of a JSON text. Node 20's `JSON.parse` messages do not carry a
 * position, so when parsing fails the CLI re-scans the text with this strict RFC 8259 scanner to
 * report `line L, column C`. It only validates; values still come from `JSON.parse`.
 */

export interface JsonSyntaxError {
  /** 0-based offset (UTF-16 code units) of the offending character, or text.length at end of input. */
  offset: number;
  message: string;
}

export interface TextPosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

class SyntaxFailure extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** The first syntax error of `text`, or null when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  try {
    new Scanner(text).document();
    return null;
  } catch (err) {
    if (err instanceof SyntaxFailure) return { offset: err.offset, message: err.message };
    return null; // e.g. nesting too deep for the recursive scanner: no position to report
  }
}

export function positionOf(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);

class Scanner {
  private pos = 0;

  constructor(private readonly text: string) {}

  document(): void {
    this.skipWhitespace();
    this.value();
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail("unexpected content after the JSON value");
  }

  private value(): void {
    const ch = this.peek();
    if (ch === "{") return this.object();
    if (ch === "[") return this.array();
    if (ch === '"') return this.string();
    if (ch === "-" || isDigit(ch)) return this.number();
    if (ch === "t") return this.literal("true");
    if (ch === "f") return this.literal("false");
    if (ch === "n") return this.literal("null");
    this.fail(
      ch === undefined
        ? "unexpected end of input, expected a value"
        : `unexpected ${show(ch)}, expected a value`,
    );
  }

  private object(): void {
    this.pos++; // {
    this.skipWhitespace();
    if (this.peek() === "}") {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.peek() !== '"') this.fail(`${this.found()}, expected a property name in double quotes`);
      this.string();
      this.skipWhitespace();
      if (this.peek() !== ":") this.fail(`${this.found()}, expected ':' after the property name`);
      this.pos++;
      this.skipWhitespace();
      this.value();
      this.skipWhitespace();
      const ch = this.peek();
      if (ch === ",") {
        this.pos++;
        continue;
      }
      if (ch === "}") {
        this.pos++;
        return;
      }
      this.fail(`${this.found()}, expected ',' or '}' after a property value`);
    }
  }

  private array(): void {
    this.pos++; // [
    this.skipWhitespace();
    if (this.peek() === "]") {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      this.value();
      this.skipWhitespace();
      const ch = this.peek();
      if (ch === ",") {
        this.pos++;
        continue;
      }
      if (ch === "]") {
        this.pos++;
        return;
      }
      this.fail(`${this.found()}, expected ',' or ']' after an array element`);
    }
  }

  private string(): void {
    this.pos++; // opening quote
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) this.fail("unterminated string");
      if (ch === '"') {
        this.pos++;
        return;
      }
      if (ch.charCodeAt(0) < 0x20) this.fail("control character in string (escape it)");
      if (ch === "\\") {
        const esc = this.text[this.pos + 1];
        if (esc === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
            this.fail("invalid \\u escape in string");
          }
          this.pos += 6;
          continue;
        }
        if (esc === undefined || !ESCAPES.has(esc)) this.fail("invalid escape in string");
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
  }

  private number(): void {
    if (this.peek() === "-") this.pos++;
    if (this.peek() === "0") {
      this.pos++;
    } else if (isDigit(this.peek())) {
      this.digits();
    } else {
      this.fail(`${this.found()}, expected a digit`);
    }
    if (this.peek() === ".") {
      this.pos++;
      if (!isDigit(this.peek())) this.fail(`${this.found()}, expected a digit after '.'`);
      this.digits();
    }
    if (this.peek() === "e" || this.peek() === "E") {
      this.pos++;
      if (this.peek() === "+" || this.peek() === "-") this.pos++;
      if (!isDigit(this.peek())) this.fail(`${this.found()}, expected a digit in the exponent`);
      this.digits();
    }
  }

  private digits(): void {
    while (isDigit(this.peek())) this.pos++;
  }

  private literal(word: string): void {
    for (let i = 0; i < word.length; i++) {
      if (this.text[this.pos] !== word[i]) this.fail(`${this.found()}, expected '${word}'`);
      this.pos++;
    }
  }

  private skipWhitespace(): void {
    for (;;) {
      const ch = this.peek();
      if (ch !== " " && ch !== "\t" && ch !== "\n" && ch !== "\r") return;
      this.pos++;
    }
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private found(): string {
    const ch = this.peek();
    return ch === undefined ? "unexpected end of input" : `unexpected ${show(ch)}`;
  }

  private fail(message: string): never {
    throw new SyntaxFailure(this.pos, message);
  }
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= "0" && ch <= "9";
}

function show(ch: string): string {
  return ch.charCodeAt(0) < 0x20
    ? `character U+${ch.charCodeAt(0).toString(16).padStart(4, "0")}`
    : `'${ch}'`;
}
