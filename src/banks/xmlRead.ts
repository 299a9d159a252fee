// Safe reading of bank XML. Three things go wrong with bank files in practice, and each has a
// guard here:
//  - hostile or broken markup: a DOCTYPE can declare entities that expand exponentially
//    ("billion laughs") or pull in local files (XXE). Bank messages never need a DTD, so any
//    DOCTYPE or ENTITY declaration is refused outright, and sizes, depth and counts are bounded;
//  - silent value changes: every leaf stays the string the bank wrote (no number coercion), so
//    a 19-digit account with a leading zero and an amount like 0.10 survive intact;
//  - namespaces: real files come without one, with a prefix, or with `Xmlns` capitalised (which
//    makes it no namespace at all). Elements are matched by local name, and xmlIsoMessage.ts
//    takes the message type from the namespace when there is one, else from the structure.
import { SaxesParser } from 'saxes';
import { TextDecoder } from 'node:util';
import { BankMessageInvalid } from './types';
import { xmlBodyBytesMax, xmlDepthMax, xmlElementsMax, xmlTextCharsMax } from './xmlLimits';

export interface XmlElement {
  /** Local name: prefix stripped. */
  name: string;
  /** The qualified name as written (with its prefix), for namespace lookup. */
  qname: string;
  /** Attributes by local name. */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text and CDATA directly inside the element, untrimmed. */
  text: string;
}

export interface DocumentLocator {
  /** Raw qualified names and attributes from the root down to the current element. */
  qnames: string[];
  attrs: Record<string, string>[];
}

export function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i === -1 ? qname : qname.slice(i + 1);
}

/** Decodes bytes per the XML declaration: Chinese banks still send GBK/GB18030 files. */
export function xmlDecoder(head: Buffer): TextDecoder {
  const decl = /^(?:\uFEFF|\xEF\xBB\xBF)?<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head.subarray(0, 200).toString('latin1'));
  const declared = (decl?.[1] ?? 'utf-8').toLowerCase();
  const label = ['gbk', 'gb2312', 'gb18030', 'cp936'].includes(declared) ? 'gb18030' : declared;
  try {
    // fatal: a byte sequence invalid in the declared encoding is a broken file, not U+FFFD.
    return new TextDecoder(label, { fatal: true, ignoreBOM: false });
  } catch {
    throw new BankMessageInvalid(`XML encoding ${JSON.stringify(declared)} is not supported`);
  }
}

const declarationPattern = /<!(DOCTYPE|ENTITY)/i;

export function refuseDeclarations(text: string): void {
  const m = declarationPattern.exec(text);
  if (m) throw new BankMessageInvalid(`XML ${m[1].toUpperCase()} declarations are not accepted in bank messages`);
}

export function newParser(onError: (message: string) => never, position = true): SaxesParser {
  // Position tracking costs a quarter of the parse time; streamed statements go without it.
  const parser = new SaxesParser({ xmlns: false, position });
  parser.on('doctype', () => onError('XML DOCTYPE declarations are not accepted in bank messages'));
  parser.on('error', (err) => onError(`malformed XML: ${err.message}`));
  return parser;
}

export function failInvalid(message: string): never {
  throw new BankMessageInvalid(message);
}

interface TreeBuilder {
  stack: XmlElement[];
  elements: number;
}

/** The prototype of every element's attributes: empty and above nothing, so that an attribute
 *  named `__proto__` or `constructor` is just an attribute. Objects made from it stay in V8's
 *  fast mode with one shape per set of names; `Object.create(null)` makes dictionary-mode objects,
 *  and storing into a new one misses the store's inline cache every time, which kept V8 from
 *  optimising the streaming tag reader during the first document a process read (a statement of
 *  100,000 entries at two thirds of the speed of the next). */
const attributesPrototype: object = Object.freeze(Object.create(null));

/** A new, empty record of attributes by name (see attributesPrototype). */
export function attributeRecord(): Record<string, string> {
  return Object.create(attributesPrototype) as Record<string, string>;
}

function attachHandlers(
  parser: SaxesParser,
  state: TreeBuilder,
  opts: { elementsMax: number; onOpen?: (el: XmlElement, depth: number) => void },
): void {
  parser.on('opentag', (node) => {
    state.elements += 1;
    if (state.elements > opts.elementsMax) failInvalid(`XML has more than ${opts.elementsMax} elements`);
    if (state.stack.length >= xmlDepthMax) failInvalid(`XML nests deeper than ${xmlDepthMax}`);
    const attrs = attributeRecord();
    // ISO 20022 attributes (Ccy) are unqualified: a prefixed one of the same local name stands in
    // only where the real one is missing, never over it (`Ccy="USD" x:Ccy="CNY"` is USD).
    const raw = Object.entries(node.attributes as Record<string, string>);
    for (const [k, v] of raw) if (k.includes(':') && !k.startsWith('xmlns')) attrs[localName(k)] = v;
    for (const [k, v] of raw) if (!k.includes(':') || k.startsWith('xmlns')) attrs[k] = v;
    const el: XmlElement = { name: localName(node.name), qname: node.name, attrs, children: [], text: '' };
    opts.onOpen?.(el, state.stack.length);
    state.stack.push(el);
  });
  const addText = (t: string) => {
    const top = state.stack[state.stack.length - 1];
    if (!top) return;
    if (top.text.length + t.length > xmlTextCharsMax) failInvalid(`XML element ${top.name} has more than ${xmlTextCharsMax} characters of text`);
    top.text += t;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    const el = state.stack.pop();
    if (!el) return;
    const parent = state.stack[state.stack.length - 1];
    if (parent) parent.children.push(el);
  });
}

/** Reads a whole (bounded) XML document into a light tree of strings. */
export function parseXmlTree(input: string | Buffer, opts: { bytesMax?: number; elementsMax?: number } = {}): XmlElement {
  const bytesMax = opts.bytesMax ?? xmlBodyBytesMax;
  const bytes = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (bytes > bytesMax) throw new BankMessageInvalid(`XML body of ${bytes} bytes exceeds ${bytesMax}`);
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = xmlDecoder(input).decode(input);
    } catch (err) {
      if (err instanceof BankMessageInvalid) throw err;
      throw new BankMessageInvalid(`XML is not valid in its declared encoding: ${(err as Error).message}`);
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  refuseDeclarations(text);
  const parser = newParser(failInvalid);
  const state: TreeBuilder = { stack: [], elements: 0 };
  let root: XmlElement | undefined;
  attachHandlers(parser, state, {
    elementsMax: opts.elementsMax ?? xmlElementsMax,
    onOpen: (el, depth) => {
      if (depth === 0) root = el;
    },
  });
  // saxes reads `<?a?b ...?>` as target `a`, body `?b ...`; XML requires a space after the
  // target (or the end), as the streaming reader does. The body alone cannot tell the two apart,
  // the text just before the parser's position can (the whole text is written at once).
  parser.on('processinginstruction', ({ target, body }) => {
    if (!body.startsWith('?')) return;
    const raw = `<?${target}${body}?>`;
    if (text.slice(parser.position - raw.length, parser.position) === raw) failInvalid(`malformed XML: processing instruction ${target} not followed by a space`);
  });
  parser.write(text).close();
  if (!root) throw new BankMessageInvalid('XML has no root element');
  return root;
}

// ------------------------------------------------------------------------------------------
// Navigation by local name

export function child(el: XmlElement | undefined, ...path: string[]): XmlElement | undefined {
  let cur = el;
  for (const name of path) {
    if (!cur) return undefined;
    cur = cur.children.find((c) => c.name === name);
  }
  return cur;
}

export function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** Trimmed text at a path, or undefined when the element is absent or empty. */
export function textAt(el: XmlElement | undefined, ...path: string[]): string | undefined {
  const target = child(el, ...path);
  if (!target) return undefined;
  const t = target.text.trim();
  return t === '' ? undefined : t;
}

export function requireText(el: XmlElement | undefined, what: string, ...path: string[]): string {
  const t = textAt(el, ...path);
  if (t === undefined) throw new BankMessageInvalid(`${what}: missing ${path.join('/')}`);
  return t;
}
