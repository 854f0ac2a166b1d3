/**
 * Where a text stops being JSON (RFC 8259): the index of the first character that cannot continue
 * it, `text.length` when it ends too early, or -1 when it is valid JSON. V8's own messages give no
 * position for an unexpected character and quote the body instead, so a failed parse is located
 * here. One pass, iterative (any nesting depth), run only after `JSON.parse` has refused the text.
 */
export function jsonErrorIndex(text: string): number {
  type Expect = 'value' | 'value-or-end' | 'key' | 'key-or-end' | 'colon' | 'comma-or-end' | 'done';
  const open: Array<'{' | '['> = [];
  let expect: Expect = 'value';
  let i = 0;
  const afterValue = (): Expect => (open.length > 0 ? 'comma-or-end' : 'done');
  /** Closes the innermost object or array at `i`. */
  const close = (): void => {
    open.pop();
    i++;
    expect = afterValue();
  };
  for (;;) {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
    if (i >= text.length) return expect === 'done' ? -1 : text.length;
    const c = text.charAt(i);
    switch (expect) {
      case 'done':
        return i;
      case 'colon':
        if (c !== ':') return i;
        i++;
        expect = 'value';
        break;
      case 'comma-or-end': {
        const top = open.at(-1);
        if (c === ',') {
          i++;
          expect = top === '{' ? 'key' : 'value';
        } else if (c === (top === '{' ? '}' : ']')) {
          close();
        } else {
          return i;
        }
        break;
      }
      case 'key':
      case 'key-or-end':
        if (expect === 'key-or-end' && c === '}') {
          close();
          break;
        }
        if (c !== '"') return i;
        i = stringEnd(text, i);
        if (i < 0) return -i - 1;
        expect = 'colon';
        break;
      case 'value':
      case 'value-or-end':
        if (expect === 'value-or-end' && c === ']') {
          close();
          break;
        }
        if (c === '{' || c === '[') {
          open.push(c);
          i++;
          expect = c === '{' ? 'key-or-end' : 'value-or-end';
          break;
        }
        i = c === '"' ? stringEnd(text, i) : scalarEnd(text, i);
        if (i < 0) return -i - 1;
        expect = afterValue();
        break;
    }
  }
}

/** The index past the string literal at `start`, or `-(error index) - 1`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x22 /* " */) return i + 1;
    if (code < 0x20) return -i - 1;
    if (code === 0x5c /* \ */) {
      const escaped = text.charAt(i + 1);
      if ('"\\/bfnrt'.includes(escaped) && escaped !== '') i += 2;
      else if (escaped === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
      else return -(i + 1) - 1;
      continue;
    }
    i++;
  }
  return -text.length - 1;
}

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** The index past the number or literal at `start`, or `-(error index) - 1`. */
function scalarEnd(text: string, start: number): number {
  for (const literal of ['true', 'false', 'null']) {
    if (text.startsWith(literal, start)) return start + literal.length;
  }
  NUMBER.lastIndex = start;
  const match = NUMBER.exec(text);
  if (!match) return -start - 1;
  const end = start + match[0].length;
  // A number followed by more number-like characters (`1e`, `01`, `1.`) is broken where it stops.
  return /[0-9.eE+-]/.test(text.charAt(end)) ? -end - 1 : end;
}
