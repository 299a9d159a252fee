// Safe reading of bank XML. Three things go wrong with bank files in practice, and each has a
// guard here:
//  - hostile or broken markup: a DOCTYPE can declare entities that expand exponentially
//    ("billion laughs") or pull in local files (XXE). Bank messages never need a DTD, so any
//    DOCTYPE or ENTITY declaration is refused outright, and sizes, depth and counts are bounded;
//  - silent value changes: every leaf stays the string the bank wrote (no number coercion), so
//    a 19-digit account with a leading zero and an amount like 0.10 survive intact;
//  - namespaces: real files come without one, with a prefix, or with `Xmlns` capitalised (which
//    makes it no namespace at all). Elements are matched by local name and the message type is
//    taken from the namespace when there is one, else from the structure under Document.
import type { Readable } from 'node:stream';
import { SaxesParser } from 'saxes';
import { TextDecoder } from 'node:util';
import { BankMessageInvalid } from './types';

/** A pushed notification or a status report larger than this is not a message we accept. */
export const xmlBodyBytesMax = 10 * 1024 * 1024;
/** Entries (Ntry, and TxDtls within them) in one camt.054 notification. */
export const notificationEntriesMax = 10_000;
/** Entries in one streamed statement (camt.053 or cn-h2h): a year of a very busy account. */
export const statementEntriesMax = 1_000_000;
/** Elements in a document read whole (10,000 entries of ~40 elements each, with room). */
export const xmlElementsMax = 500_000;
/** ISO 20022 messages nest about 12 deep; anything far deeper is an attack on the recursion. */
export const xmlDepthMax = 64;
/** One leaf's text (remittance and AddtlInf are the longest, at most a few hundred chars). */
export const xmlTextCharsMax = 64 * 1024;
/** Streamed input is fed to the parser in slices of this size, which bounds how many parsed
 *  elements wait for a slow consumer at any moment. */
export const xmlStreamSliceBytes = 64 * 1024;

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

export type IsoMessageType = 'pain.001' | 'pain.002' | 'camt.053' | 'camt.054';

export interface IsoMessageInfo {
  type: IsoMessageType;
  /** "001.08" etc.: from the namespace, else guessed from the structure, else undefined. */
  version?: string;
  /** The namespace as declared, when it was declared properly. */
  namespace?: string;
  /** True when the namespace was found only in a mis-spelled attribute (e.g. `Xmlns`). */
  namespaceMisspelled: boolean;
}

const messageRoots: Record<string, IsoMessageType> = {
  CstmrCdtTrfInitn: 'pain.001',
  CstmrPmtStsRpt: 'pain.002',
  BkToCstmrStmt: 'camt.053',
  BkToCstmrDbtCdtNtfctn: 'camt.054',
};

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

function refuseDeclarations(text: string): void {
  const m = declarationPattern.exec(text);
  if (m) throw new BankMessageInvalid(`XML ${m[1].toUpperCase()} declarations are not accepted in bank messages`);
}

function newParser(onError: (message: string) => never, position = true): SaxesParser {
  // Position tracking costs a quarter of the parse time; streamed statements go without it.
  const parser = new SaxesParser({ xmlns: false, position });
  parser.on('doctype', () => onError('XML DOCTYPE declarations are not accepted in bank messages'));
  parser.on('error', (err) => onError(`malformed XML: ${err.message}`));
  return parser;
}

function failInvalid(message: string): never {
  throw new BankMessageInvalid(message);
}

interface TreeBuilder {
  stack: XmlElement[];
  elements: number;
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
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(node.attributes as Record<string, string>)) attrs[k.startsWith('xmlns') ? k : localName(k)] = v;
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

// ------------------------------------------------------------------------------------------
// Message detection

const namespacePattern = /^urn:iso:std:iso:20022:tech:xsd:(pain\.00[12]|camt\.05[34])\.(\d{3}\.\d{2})$/;

/** The namespace declared for `el` (default or by its prefix), looking at the given attrs. */
function declaredNamespace(attrsChain: Record<string, string>[], prefix: string | undefined): { ns?: string; misspelled: boolean } {
  for (let i = attrsChain.length - 1; i >= 0; i--) {
    const attrs = attrsChain[i];
    const key = prefix ? `xmlns:${prefix}` : 'xmlns';
    if (attrs[key] !== undefined) return { ns: attrs[key], misspelled: false };
  }
  for (let i = attrsChain.length - 1; i >= 0; i--) {
    for (const [k, v] of Object.entries(attrsChain[i])) {
      if (k !== 'xmlns' && k.toLowerCase() === 'xmlns') return { ns: v, misspelled: true };
    }
  }
  return { misspelled: false };
}

export interface DocumentLocator {
  /** Raw qualified names and attributes from the root down to the current element. */
  qnames: string[];
  attrs: Record<string, string>[];
}

/** Identifies an ISO message from the elements down to its message root (Document's child).
 *  Banks sometimes wrap Document in an envelope (AppHdr, BizMsg): Document is found anywhere
 *  on the path. Returns undefined until the message root is on the path. */
export function identifyMessage(loc: DocumentLocator): IsoMessageInfo | undefined {
  const names = loc.qnames.map(localName);
  const docIndex = names.indexOf('Document');
  if (docIndex === -1 || names.length <= docIndex + 1) return undefined;
  const rootName = names[docIndex + 1];
  const structural = messageRoots[rootName];
  if (!structural) throw new BankMessageInvalid(`XML message ${rootName} is not one this service reads`);
  const qname = loc.qnames[docIndex];
  const prefix = qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : undefined;
  const { ns, misspelled } = declaredNamespace(loc.attrs.slice(0, docIndex + 2), prefix);
  const info: IsoMessageInfo = { type: structural, namespaceMisspelled: misspelled };
  if (ns !== undefined) {
    const m = namespacePattern.exec(ns.trim());
    if (m) {
      if (m[1] !== structural) throw new BankMessageInvalid(`XML namespace says ${m[1]} but the message is ${structural}`);
      info.version = m[2];
      if (!misspelled) info.namespace = ns.trim();
    } else if (!misspelled) {
      throw new BankMessageInvalid(`XML namespace ${JSON.stringify(ns.slice(0, 80))} is not an ISO 20022 ${structural} namespace`);
    }
  }
  return info;
}

/** For a tree: the message info and the message root element (e.g. BkToCstmrDbtCdtNtfctn). */
export function identifyTree(root: XmlElement, expected: IsoMessageType): { info: IsoMessageInfo; message: XmlElement } {
  const qnames: string[] = [];
  const attrChain: Record<string, string>[] = [];
  let cur: XmlElement | undefined = root;
  // Walk down single-path envelopes until Document's first element child.
  for (let depth = 0; cur && depth < 6; depth++) {
    qnames.push(cur.qname);
    attrChain.push(cur.attrs);
    if (cur.name === 'Document') {
      const msg: XmlElement | undefined = cur.children[0];
      if (!msg) throw new BankMessageInvalid('XML Document is empty');
      qnames.push(msg.qname);
      attrChain.push(msg.attrs);
      const info = identifyMessage({ qnames, attrs: attrChain });
      if (!info) throw new BankMessageInvalid('XML Document has no message');
      if (info.type !== expected) throw new BankMessageInvalid(`expected ${expected}, got ${info.type}`);
      return { info, message: msg };
    }
    cur = cur.children.find((c) => c.name === 'Document') ?? cur.children[cur.children.length - 1];
  }
  throw new BankMessageInvalid(`expected an ISO 20022 ${expected} Document, got <${root.name}>`);
}

/** Which ISO message a whole document is, without committing to one. */
export function sniffIsoMessage(root: XmlElement): IsoMessageInfo {
  for (const t of Object.values(messageRoots)) {
    try {
      return identifyTree(root, t).info;
    } catch (err) {
      if (!(err instanceof BankMessageInvalid) || !/^expected /.test(err.message)) throw err;
    }
  }
  throw new BankMessageInvalid('not an ISO 20022 message');
}

// ------------------------------------------------------------------------------------------
// Streaming

export interface XmlStreamHandlers {
  /** Called with the path of local names of each element opened outside a collected subtree;
   *  return true to collect that element's whole subtree and receive it in onElement. */
  collect: (path: readonly string[], loc: DocumentLocator) => boolean;
  /** Receives each collected subtree once it is closed, in document order. Awaited: the input
   *  is not read further until it resolves. */
  onElement: (el: XmlElement, path: readonly string[]) => void | Promise<void>;
}

async function* bytesOf(input: Readable | NodeJS.ReadableStream | Buffer | string): AsyncGenerator<Buffer> {
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
    for (let i = 0; i < buf.length; i += xmlStreamSliceBytes) yield buf.subarray(i, i + xmlStreamSliceBytes);
    return;
  }
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (let i = 0; i < buf.length; i += xmlStreamSliceBytes) yield buf.subarray(i, i + xmlStreamSliceBytes);
  }
}

/** Streams an XML document with bounded memory: only collected subtrees are built, and each is
 *  handed to the consumer (awaited) before more input is read. */
export async function streamXml(input: Readable | NodeJS.ReadableStream | Buffer | string, handlers: XmlStreamHandlers): Promise<void> {
  const parser = newParser(failInvalid, false);
  const path: string[] = [];
  const loc: DocumentLocator = { qnames: [], attrs: [] };
  let collecting: XmlElement[] | undefined;
  let collectDepth = 0;
  let collectedElements = 0;
  const ready: { el: XmlElement; path: string[] }[] = [];
  parser.on('opentag', (node) => {
    if (path.length >= xmlDepthMax) failInvalid(`XML nests deeper than ${xmlDepthMax}`);
    const name = localName(node.name);
    const rawAttrs = node.attributes as Record<string, string>;
    path.push(name);
    loc.qnames.push(node.name);
    loc.attrs.push(rawAttrs);
    const attrsLocal: Record<string, string> = {};
    for (const [k, v] of Object.entries(rawAttrs)) attrsLocal[k.startsWith('xmlns') ? k : localName(k)] = v;
    if (collecting) {
      collectedElements += 1;
      if (collectedElements > xmlElementsMax) failInvalid(`XML element has more than ${xmlElementsMax} elements`);
      const el: XmlElement = { name, qname: node.name, attrs: attrsLocal, children: [], text: '' };
      collecting[collecting.length - 1].children.push(el);
      collecting.push(el);
    } else if (handlers.collect(path, loc)) {
      collecting = [{ name, qname: node.name, attrs: attrsLocal, children: [], text: '' }];
      collectDepth = path.length;
      collectedElements = 1;
    }
  });
  const addText = (t: string) => {
    if (!collecting) return;
    const top = collecting[collecting.length - 1];
    if (top.text.length + t.length > xmlTextCharsMax) failInvalid(`XML element ${top.name} has more than ${xmlTextCharsMax} characters of text`);
    top.text += t;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    if (collecting) {
      const el = collecting.pop()!;
      if (path.length === collectDepth) {
        ready.push({ el, path: [...path] });
        collecting = undefined;
      }
    }
    path.pop();
    loc.qnames.pop();
    loc.attrs.pop();
  });

  let decoder: TextDecoder | undefined;
  let total = 0;
  let first = true;
  // A declaration split across slices is caught by the DOCTYPE event; this scan of the
  // prologue gives the clearer message in the common case.
  for await (const slice of bytesOf(input)) {
    total += slice.length;
    decoder ??= xmlDecoder(slice);
    let text: string;
    try {
      text = decoder.decode(slice, { stream: true });
    } catch (err) {
      throw new BankMessageInvalid(`XML is not valid in its declared encoding: ${(err as Error).message}`);
    }
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    refuseDeclarations(text);
    parser.write(text);
    while (ready.length > 0) {
      const next = ready.shift()!;
      await handlers.onElement(next.el, next.path);
    }
  }
  if (total === 0) throw new BankMessageInvalid('XML document is empty');
  parser.close();
  while (ready.length > 0) {
    const next = ready.shift()!;
    await handlers.onElement(next.el, next.path);
  }
}

// ------------------------------------------------------------------------------------------
// Writing

/** Escapes text and attribute values; strips characters XML 1.0 cannot carry at all, which a
 *  name typed into a bank form occasionally contains (control characters). */
export function escapeXml(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Truncation by Unicode code point (what xs:maxLength counts), never splitting a surrogate pair. */
export function truncateToChars(value: string, charsMax: number): string {
  const chars = Array.from(value);
  return chars.length <= charsMax ? value : chars.slice(0, charsMax).join('');
}
