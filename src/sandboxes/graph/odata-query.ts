/**
 * The small part of OData the Graph sandbox understands, parsed strictly so a client that forgets to escape a
 * single quote gets the same 400 as from Graph:
 *   `<property> eq '<literal>'`   and   `<collection>/any(<v>:<v> eq '<literal>')`
 * Literals double their single quotes (`'o''brien'`).
 */

export type FilterClause =
  { kind: 'eq'; property: string; value: string } | { kind: 'any-eq'; collection: string; value: string };

export class ODataSyntaxError extends Error {}

export function parseFilter(text: string): FilterClause {
  const s = new Scanner(text);
  s.skipSpaces();
  const property = s.identifierPath();
  s.skipSpaces();
  if (s.peek() === '(' && !property.endsWith('/any')) {
    throw new ODataSyntaxError(`unexpected '(' after '${property}'`);
  }
  let clause: FilterClause;
  if (property.endsWith('/any')) {
    const collection = property.slice(0, -'/any'.length);
    s.expect('(');
    s.skipSpaces();
    const variable = s.identifierPath();
    s.expect(':');
    const target = s.identifierPath();
    if (target !== variable) throw new ODataSyntaxError(`expected '${variable}' inside any()`);
    s.expectWord('eq');
    const value = s.literal();
    s.skipSpaces();
    s.expect(')');
    clause = { kind: 'any-eq', collection, value };
  } else {
    s.expectWord('eq');
    clause = { kind: 'eq', property, value: s.literal() };
  }
  s.skipSpaces();
  if (!s.done()) throw new ODataSyntaxError(`syntax error at position ${s.position}`);
  return clause;
}

/** `$select=a,b` → ['a','b']; undefined when absent. */
export function parseSelect(text: string | null): string[] | undefined {
  if (text === null) return undefined;
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

class Scanner {
  position = 0;

  constructor(private readonly text: string) {}

  done(): boolean {
    return this.position >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.position];
  }

  skipSpaces(): void {
    while (this.peek() === ' ') this.position += 1;
  }

  identifierPath(): string {
    const match = /^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*/.exec(this.text.slice(this.position));
    if (!match) throw new ODataSyntaxError(`expected a property name at position ${this.position}`);
    this.position += match[0].length;
    return match[0];
  }

  expect(char: string): void {
    this.skipSpaces();
    if (this.peek() !== char) throw new ODataSyntaxError(`expected '${char}' at position ${this.position}`);
    this.position += 1;
  }

  expectWord(word: string): void {
    this.skipSpaces();
    const next = this.text.slice(this.position, this.position + word.length + 1);
    if (next.toLowerCase() !== `${word} `) {
      throw new ODataSyntaxError(`expected '${word}' at position ${this.position}`);
    }
    this.position += word.length + 1;
    this.skipSpaces();
  }

  literal(): string {
    if (this.peek() !== "'")
      throw new ODataSyntaxError(`expected a quoted literal at position ${this.position}`);
    this.position += 1;
    let value = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new ODataSyntaxError('unterminated string literal');
      this.position += 1;
      if (c !== "'") {
        value += c;
        continue;
      }
      if (this.peek() === "'") {
        value += "'";
        this.position += 1;
        continue;
      }
      return value;
    }
  }
}
