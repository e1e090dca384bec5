// A request body's text read as etcd 3.4's gateway reads it: Go's json.Decoder takes the first
// JSON value and ignores whatever follows; an empty body is an empty request; a body that ends
// inside a value is "unexpected EOF"; a syntax error is Go's scanner message. Only the messages
// need this scanner: the value itself comes from JSON.parse of the span it found.

import { invalidArgument, type EtcdError } from "../errors.ts";

class SyntaxFailure extends Error {}

/** Answers the decoded body (null for an empty one) or throws etcd's 400 with Go's text. */
export function decodeBody(text: string): unknown {
  const scanner = new Scanner(text);
  scanner.skipSpace();
  if (scanner.atEnd()) return null;
  const start = scanner.pos;
  try {
    scanner.value();
  } catch (e) {
    if (e instanceof SyntaxFailure) throw invalidArgument(e.message);
    throw e;
  }
  return JSON.parse(text.slice(start, scanner.pos));
}

/**
 * Several JSON values one after another in one body (etcd's keepalive stream, a watch stream's
 * client messages), read as the gateway's json.Decoder loop reads them: the values before the
 * first syntax error, and that error (Go's text, as a 400; the caller decides what it means for
 * its stream). An empty body is no value at all (not one empty request, as for the unary routes).
 */
export function decodeValues(text: string): { values: unknown[]; error: EtcdError | null } {
  const scanner = new Scanner(text);
  const values: unknown[] = [];
  for (;;) {
    scanner.skipSpace();
    if (scanner.atEnd()) return { values, error: null };
    const start = scanner.pos;
    try {
      scanner.value();
    } catch (e) {
      if (e instanceof SyntaxFailure) return { values, error: invalidArgument(e.message) };
      throw e;
    }
    values.push(JSON.parse(text.slice(start, scanner.pos)));
  }
}

/** Go's quoteChar: the character in single quotes, escaped as strconv.Quote escapes it. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  return `'${JSON.stringify(c).slice(1, -1)}'`;
}

class Scanner {
  pos = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpace(): void {
    while (!this.atEnd() && " \t\r\n".includes(this.text[this.pos]!)) this.pos++;
  }

  /** The next character; the end of input mid-value is the Decoder's "unexpected EOF". */
  private peek(): string {
    if (this.atEnd()) throw new SyntaxFailure("unexpected EOF");
    return this.text[this.pos]!;
  }

  private fail(context: string): never {
    throw new SyntaxFailure(`invalid character ${quoteChar(this.peek())} ${context}`);
  }

  value(): void {
    this.skipSpace();
    const c = this.peek();
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    for (const literal of ["true", "false", "null"]) {
      if (c !== literal[0]) continue;
      this.pos++;
      for (let i = 1; i < literal.length; i++, this.pos++) {
        if (this.peek() !== literal[i]) this.fail(`in literal ${literal} (expecting ${quoteChar(literal[i]!)})`);
      }
      return;
    }
    this.fail("looking for beginning of value");
  }

  private object(): void {
    this.pos++;
    this.skipSpace();
    if (this.peek() === "}") {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipSpace();
      if (this.peek() !== '"') this.fail("looking for beginning of object key string");
      this.string();
      this.skipSpace();
      if (this.peek() !== ":") this.fail("after object key");
      this.pos++;
      this.value();
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c === "}") return;
      if (c !== ",") {
        this.pos--;
        this.fail("after object key:value pair");
      }
    }
  }

  private array(): void {
    this.pos++;
    this.skipSpace();
    if (this.peek() === "]") {
      this.pos++;
      return;
    }
    for (;;) {
      this.value();
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c === "]") return;
      if (c !== ",") {
        this.pos--;
        this.fail("after array element");
      }
    }
  }

  private string(): void {
    this.pos++;
    for (;;) {
      const c = this.peek();
      if (c === '"') {
        this.pos++;
        return;
      }
      if (c < " ") this.fail("in string literal");
      this.pos++;
      if (c !== "\\") continue;
      const e = this.peek();
      if (!'"\\/bfnrtu'.includes(e)) this.fail("in string escape code");
      this.pos++;
      if (e !== "u") continue;
      for (let i = 0; i < 4; i++, this.pos++) {
        if (!/[0-9a-fA-F]/.test(this.peek())) this.fail("in \\u hexadecimal character escape");
      }
    }
  }

  private number(): void {
    const digit = () => !this.atEnd() && this.text[this.pos]! >= "0" && this.text[this.pos]! <= "9";
    if (this.peek() === "-") this.pos++;
    if (this.peek() === "0") this.pos++;
    else if (digit()) while (digit()) this.pos++;
    else this.fail("in numeric literal");
    if (!this.atEnd() && this.text[this.pos] === ".") {
      this.pos++;
      if (!digit()) this.fail("after decimal point in numeric literal");
      while (digit()) this.pos++;
    }
    if (!this.atEnd() && (this.text[this.pos] === "e" || this.text[this.pos] === "E")) {
      this.pos++;
      if (this.peek() === "+" || this.peek() === "-") this.pos++;
      if (!digit()) this.fail("in exponent of numeric literal");
      while (digit()) this.pos++;
    }
  }
}
