// JSON as every body of bidbond is read: JSON.parse, and no object naming a key twice. JSON.parse
// keeps the last of repeated keys while other readers keep the first, so a message such as
// {"amount": "1.00", "amount": "50000.00"} would mean one sum to the bank that signed it and
// another to us; such a body is refused, never read one way.

/** A key repeated in one object, with where it is (`$.entries[0].amount`). */
export class RepeatedJsonKey extends Error {
  constructor(readonly path: string) {
    super(`${path}: key repeated in one object`);
  }

  /** The path as an API error's param names a field (`entries[0].amount`). */
  get param(): string {
    return this.path.replace(/^\$\.?/, '');
  }
}

/** JSON.parse of `text`, refusing an object that repeats a key (compared after unescaping, so
 *  "a" and "\u0061" are one key). Throws JSON.parse's SyntaxError for what is not JSON. */
export function parseJsonStrict(text: string): unknown {
  const value: unknown = JSON.parse(text);
  checkKeysOnce(text);
  return value;
}

interface Frame {
  /** Keys seen in this object; undefined for an array. */
  keys: Set<string> | undefined;
  /** The next string in an object is a key. */
  expectKey: boolean;
  /** The member's name or the element's index, for the path. */
  at: string | number;
}

const quote = 0x22;
const backslash = 0x5c;

/** Walks text that JSON.parse has accepted, so only the structure needs following. */
function checkKeysOnce(text: string): void {
  const stack: Frame[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === quote) {
      let end = i + 1;
      for (;;) {
        // The string ends at the first quote after an even number of backslashes.
        const q = text.indexOf('"', end);
        if (q === -1) return; // not JSON: JSON.parse has said so already
        let slashes = 0;
        for (let k = q - 1; k > i && text.charCodeAt(k) === backslash; k--) slashes++;
        if (slashes % 2 === 0) {
          end = q;
          break;
        }
        end = q + 1;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        top.at = key;
        if (top.keys.has(key)) throw new RepeatedJsonKey(pathOf(stack));
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), expectKey: true, at: '' });
    } else if (c === 0x5b /* [ */) {
      stack.push({ keys: undefined, expectKey: false, at: 0 });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (!top) return;
      if (top.keys) top.expectKey = true;
      else top.at = (top.at as number) + 1;
    }
  }
}

function pathOf(stack: Frame[]): string {
  let path = '$';
  for (const f of stack) path += f.keys ? (/^[A-Za-z_$][\w$]*$/.test(f.at as string) ? `.${f.at}` : `[${JSON.stringify(f.at)}]`) : `[${f.at}]`;
  return path;
}
