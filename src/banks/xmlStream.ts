// Streaming reading of bank XML, for statements too large to hold: the same guards as a whole
// read (xmlRead.ts), with memory bounded by what the consumer collects.
//
// A day's statement is 100,000 entries of ~44 elements each, so the reader is built for that
// size: a scanner of its own (XmlScanner) that checks well-formedness and hands over names and
// text without building anything, and readers that claim an element and collect only what
// they read from it (XmlSubtreeReader), instead of a tree of every element of every entry.
// What the scanner refuses is what a conforming XML 1.0 parser without namespace processing
// refuses (saxes, used for whole documents in xmlRead.ts, with `xmlns: false`): mismatched or
// unclosed tags, a second root, text outside the root, an undefined entity, a character XML
// does not allow, `]]>` in text, `--` in a comment, a misplaced XML declaration, a repeated
// attribute; a DOCTYPE is refused outright, so no entity is ever declared.
import type { Readable } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import type { TextDecoder } from 'node:util';
import { BankMessageInvalid } from './types';
import { xmlDepthMax, xmlElementsMax, xmlStreamSliceBytes, xmlTextCharsMax } from './xmlLimits';
import { attributeRecord, failInvalid, localName, refuseDeclarations, xmlDecoder, type DocumentLocator, type XmlElement } from './xmlRead';

/** A construct (tag, text run, comment, PI, CDATA section) not yet closed is held until it is:
 *  one longer than the longest text we accept plus a slice is no bank message. */
export const xmlPendingCharsMax = xmlTextCharsMax + xmlStreamSliceBytes;

type Attrs = Record<string, string>;

/** attributeRecord (xmlRead.ts) as a plain binding: an imported one is read through a getter per
 *  call when the module runs as CommonJS (tsx), and this runs for every attribute of a statement. */
const newAttrs = attributeRecord;

/** What the scanner reports: raw qualified names, attributes by raw name (no prototype), text
 *  with its references resolved and its line ends normalised, CDATA as text. */
export interface XmlScanEvents {
  /** `local` is the qualified name without its prefix. */
  open(qname: string, attrs: Attrs | undefined, local: string): void;
  text(text: string): void;
  close(): void;
}

const fail = (reason: string): never => failInvalid(`malformed XML: ${reason}`);

// The scanner reads UTF-8 bytes as a latin1 string: one character per byte, so the markup (all
// ASCII) is found by the string search built into the engine on a one-byte string, and only
// the text and names that carry other characters are decoded (ASCII is the same in both).
const nonAscii = /[\x80-\xff]/;

function utf8Of(bytes: string): string {
  return nonAscii.test(bytes) ? Buffer.from(bytes, 'latin1').toString('utf8') : bytes;
}

/** Whether `text` holds `<!`. Found by its `!`: searching for `<` first, as a search for the
 *  two characters does, stops at every tag. */
function hasMarkupDeclarationOpener(text: string): boolean {
  for (let i = text.indexOf('!'); i !== -1; i = text.indexOf('!', i + 1)) if (i > 0 && text.charCodeAt(i - 1) === 0x3c) return true;
  return false;
}

// Name characters (XML 1.0 fifth edition, productions 4 and 4a): ASCII by table, the rest by
// pattern once decoded.
const asciiName = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  if (c >= 0x80) asciiName[c] = 3;
  else if (/[A-Za-z_:]/.test(ch)) asciiName[c] = 1;
  else if (/[0-9.-]/.test(ch)) asciiName[c] = 2;
}
const unicodeNamePattern =
  /^[:A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}][-.0-9:A-Z_a-z\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C\u200D\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]*$/u;
/** Bytes XML 1.0 does not allow (production 2): C0 controls but tab, LF and CR, and the UTF-8
 *  of U+FFFE and U+FFFF. Malformed UTF-8 is refused before it gets here. */
const invalidBytePattern = /[\x00-\x08\x0B\x0C\x0E-\x1F]/;
/** The UTF-8 of U+FFFE and U+FFFF share this prefix: a literal the engine finds faster than an
 *  alternative of the class above. */
const nonCharacterPrefix = '\xEF\xBF';

/** Whether `text` holds a byte of invalidBytePattern or the UTF-8 of U+FFFE or U+FFFF. */
function hasInvalidByte(text: string): boolean {
  if (invalidBytePattern.test(text)) return true;
  for (let i = text.indexOf(nonCharacterPrefix); i !== -1; i = text.indexOf(nonCharacterPrefix, i + 2)) {
    const c = text.charCodeAt(i + 2);
    if (c === 0xbe || c === 0xbf) return true;
  }
  return false;
}
const spaceOnly = /^[ \t\r\n]*$/;
const xmlDeclPattern = /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]+\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\3)?[ \t\r\n]*\?>$/;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Whether the last name scanned had bytes outside ASCII (then nameAt decodes and checks it). */
let lastNameNonAscii = false;
/** A hash of the last name scanned, for internedName. */
let lastNameHash = 0;
/** Whether the last name scanned has a colon (a prefix, or a colon of its own). */
let lastNameColon = false;

// The scanner reads characters from the bytes of its input (the same text, one byte per
// character), not with charCodeAt: once any module declares a subclass of String (ioredis
// does), V8 stops inlining the string's character reads, and a statement's 90 million reads
// cost five times as much.

/** The index after the Name starting at `p` (p itself when there is none); a name with bytes
 *  outside ASCII is checked once decoded (see nameAt). */
function scanName(b: Uint8Array, p: number): number {
  let i = p;
  const n = b.length;
  let high = false;
  let colon = false;
  let h = 2166136261 | 0;
  while (i < n) {
    const c = b[i];
    const k = asciiName[c];
    if (k === 0 || (k === 2 && i === p)) break;
    if (k === 3) high = true;
    else if (c === 0x3a) colon = true;
    h = Math.imul(h ^ c, 16777619);
    i += 1;
  }
  lastNameNonAscii = high;
  lastNameColon = colon;
  lastNameHash = h;
  return i;
}

/** Whether the bytes of `name` are at `p` in `b` (what startsWith does, without its builtin's
 *  cost on names of a few characters, compared millions of times). */
function nameIsAt(b: Uint8Array, p: number, name: Uint8Array): boolean {
  const n = name.length;
  if (p + n > b.length) return false;
  for (let i = 0; i < n; i++) if (b[p + i] !== name[i]) return false;
  return true;
}

/** Slots of the cache of element names (a power of two). A statement uses a few dozen names
 *  millions of times: each is sliced once, not once per tag, and the same string is handed on
 *  each time. */
const nameCacheSlots = 1024;
/** Longer names are not cached, so the cache holds at most slots × this many characters. */
const nameCacheCharsMax = 64;
const nameCache: string[] = new Array<string>(nameCacheSlots).fill('');
/** The bytes of each cached name, beside it. */
const nameCacheBytes: Uint8Array[] = new Array<Uint8Array>(nameCacheSlots).fill(new Uint8Array(0));
/** The bytes of the name internedName returned last. */
let lastNameBytes: Uint8Array = nameCacheBytes[0];

/** The raw name between p and end, as the cached string when the cache holds it (its slot by
 *  lastNameHash, which scanName computed for this name); its bytes in lastNameBytes. */
function internedName(s: string, b: Uint8Array, p: number, end: number): string {
  // Two slots per name (by two parts of its hash), so that two names of one entry that share
  // a slot do not push each other out at every entry.
  const first = lastNameHash & (nameCacheSlots - 1);
  const second = (lastNameHash >>> 16) & (nameCacheSlots - 1);
  const len = end - p;
  let known = nameCacheBytes[first];
  if (known.length === len && nameIsAt(b, p, known)) {
    lastNameBytes = known;
    return nameCache[first];
  }
  known = nameCacheBytes[second];
  if (known.length === len && nameIsAt(b, p, known)) {
    lastNameBytes = known;
    return nameCache[second];
  }
  // Copies, not views: a view would keep the whole input alive as long as the cache holds it.
  lastNameBytes = new Uint8Array(b.subarray(p, end));
  const name = Buffer.from(lastNameBytes.buffer, lastNameBytes.byteOffset, lastNameBytes.length).toString('latin1');
  if (len <= nameCacheCharsMax) {
    // The newest name takes the first slot; what was there moves to its own second place.
    nameCache[second] = nameCache[first];
    nameCacheBytes[second] = nameCacheBytes[first];
    nameCache[first] = name;
    nameCacheBytes[first] = lastNameBytes;
  }
  return name;
}

/** The name between p and end, decoded; refused unless it is an XML Name. */
function nameAt(s: string, p: number, end: number): string {
  const raw = s.slice(p, end);
  if (!nonAscii.test(raw)) return raw;
  const name = Buffer.from(raw, 'latin1').toString('utf8');
  if (!unicodeNamePattern.test(name)) fail(`${JSON.stringify(name.slice(0, 40))} is not an XML name`);
  return name;
}

const predefined: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Resolves the predefined and character references; no other entity can exist (no DTD). */
function resolveReferences(raw: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const amp = raw.indexOf('&', i);
    if (amp === -1) return out + raw.slice(i);
    out += raw.slice(i, amp);
    const semi = raw.indexOf(';', amp + 1);
    if (semi === -1) fail('& not followed by a reference');
    const name = raw.slice(amp + 1, semi);
    if (Object.hasOwn(predefined, name)) out += predefined[name];
    else if (/^#[0-9]{1,7}$/.test(name) || /^#x[0-9A-Fa-f]{1,6}$/.test(name)) {
      const cp = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (!isXmlChar(cp)) fail(`character reference &${name}; is not an XML character`);
      out += String.fromCodePoint(cp);
    } else fail(`undefined entity &${name.slice(0, 40)};`);
    i = semi + 1;
  }
}

/** Text as the application sees it: decoded, line ends as LF (XML 1.0 §2.11), references
 *  resolved. */
function contentText(raw: string): string {
  let t = utf8Of(raw);
  if (t.indexOf('\r') !== -1) t = t.replace(/\r\n?/g, '\n');
  return t.indexOf('&') === -1 ? t : resolveReferences(t);
}

/** An attribute value normalised as XML 1.0 §3.3.3 says for CDATA attributes. */
function attributeValue(raw: string): string {
  if (raw.indexOf('<') !== -1) fail('< in an attribute value');
  let t = utf8Of(raw);
  if (/[\t\n\r]/.test(t)) t = t.replace(/\r\n?/g, '\n').replace(/[\t\n]/g, ' ');
  return t.indexOf('&') === -1 ? t : resolveReferences(t);
}

/** An incremental, non-validating XML 1.0 scanner. Input is written as UTF-8 bytes read as
 *  latin1 (see utf8Of), cut anywhere but inside a character; whatever construct is cut by the
 *  end of a write is kept until the next one completes it. Events carry decoded text. */
export class XmlScanner {
  private buf = '';
  /** The bytes of buf, one per character, which the scanner reads (see scanName). */
  private bytes: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** Raw (latin1) names of the open elements, and their bytes to compare end tags with. */
  private readonly open: string[] = [];
  private readonly openBytes: Uint8Array[] = [];
  private rootSeen = false;
  private rootClosed = false;
  private atDocumentStart = true;

  constructor(private readonly events: XmlScanEvents) {}

  write(text: string): void {
    if (hasInvalidByte(text)) fail('a character XML does not allow');
    // What the last write left unfinished is joined to this one. Both are one byte per
    // character (see utf8Of), so latin1 gives their bytes as they are; the string is made from
    // those bytes, flat (a joined string is a rope, which every slice of it would walk).
    const joined = this.pos < this.buf.length ? this.buf.slice(this.pos) + text : text;
    const bytes = Buffer.from(joined, 'latin1');
    this.buf = joined === text ? text : bytes.toString('latin1');
    this.bytes = bytes;
    this.pos = 0;
    this.scan(false);
    if (this.buf.length - this.pos > xmlPendingCharsMax) fail(`a tag, text, comment or CDATA section longer than ${xmlPendingCharsMax} characters`);
  }

  close(): void {
    this.scan(true);
    const top = this.open.length ? utf8Of(this.open[this.open.length - 1]) : undefined;
    if (this.pos < this.buf.length) fail(top ? `document ends inside <${top}>` : 'document ends inside a tag');
    if (top) fail(`unclosed tag <${top}>`);
    if (!this.rootSeen) fail('document must contain a root element');
  }

  private scan(final: boolean): void {
    const s = this.buf;
    const b = this.bytes;
    const n = s.length;
    let pos = this.pos;
    while (pos < n) {
      // The next markup, found byte by byte: text runs between tags are short.
      let lt = pos;
      while (lt < n && b[lt] !== 0x3c) lt += 1;
      if (lt === n) lt = -1;
      if (lt === -1) {
        // Text runs only end at markup: the rest of the document is either more of this run
        // or, at the end, what follows the root.
        if (final) {
          this.textRun(s, pos, n);
          pos = n;
        }
        break;
      }
      if (lt > pos) this.textRun(s, pos, lt);
      pos = lt;
      if (lt + 1 >= n) break;
      const c = b[lt + 1];
      let next: number;
      if (c === 0x2f) next = this.endTag(s, lt);
      else if (c === 0x21) next = this.bang(s, lt, final);
      else if (c === 0x3f) next = this.processingInstruction(s, lt);
      else next = this.startTag(s, lt);
      if (next === -1) break;
      this.atDocumentStart = false;
      pos = next;
    }
    this.pos = pos;
  }

  private textRun(s: string, from: number, to: number): void {
    this.atDocumentStart = false;
    const raw = s.slice(from, to);
    if (this.open.length === 0) {
      if (!spaceOnly.test(raw)) fail(this.rootSeen ? 'text after the root element' : 'text before the root element');
      return;
    }
    // Most text is plain: no byte outside ASCII, no ], CR or &; one look at its bytes says so.
    const b = this.bytes;
    let plain = true;
    for (let i = from; i < to; i++) {
      const c = b[i];
      if (c > 0x7f || c === 0x5d || c === 0x0d || c === 0x26) {
        plain = false;
        break;
      }
    }
    if (plain) {
      this.events.text(raw);
      return;
    }
    if (raw.indexOf(']]>') !== -1) fail(']]> in text');
    this.events.text(contentText(raw));
  }

  private startTag(s: string, lt: number): number {
    const b = this.bytes;
    const n = s.length;
    const nameEnd = scanName(b, lt + 1);
    if (nameEnd === lt + 1) fail(`< not followed by a name`);
    if (nameEnd >= n) return -1;
    const rawName = internedName(s, b, lt + 1, nameEnd);
    const rawBytes = lastNameBytes;
    const qname = lastNameNonAscii ? nameAt(s, lt + 1, nameEnd) : rawName;
    const local = lastNameColon ? localOf(qname) : qname;
    if (b[nameEnd] === 0x3e) {
      // The common tag: a name and nothing else.
      this.openElement(rawName, rawBytes, qname, local, undefined);
      return nameEnd + 1;
    }
    let attrs: Attrs | undefined;
    let q = nameEnd;
    for (;;) {
      if (q >= n) return -1;
      let c = b[q];
      let spaced = false;
      while (isSpace(c)) {
        spaced = true;
        q += 1;
        if (q >= n) return -1;
        c = b[q];
      }
      if (c === 0x3e) {
        this.openElement(rawName, rawBytes, qname, local, attrs);
        return q + 1;
      }
      if (c === 0x2f) {
        if (q + 1 >= n) return -1;
        if (b[q + 1] !== 0x3e) fail(`/ not followed by > in <${qname}>`);
        this.openElement(rawName, rawBytes, qname, local, attrs);
        this.closeElement();
        return q + 2;
      }
      if (!spaced) fail(`attribute of <${qname}> not preceded by a space`);
      const attrEnd = scanName(b, q);
      if (attrEnd === q) fail(`unexpected character in <${qname}>`);
      if (attrEnd >= n) return -1;
      const attrName = nameAt(s, q, attrEnd);
      q = attrEnd;
      while (q < n && isSpace(b[q])) q += 1;
      if (q >= n) return -1;
      if (b[q] !== 0x3d) fail(`attribute ${attrName} of <${qname}> without a value`);
      q += 1;
      while (q < n && isSpace(b[q])) q += 1;
      if (q >= n) return -1;
      const quote = b[q];
      if (quote !== 0x22 && quote !== 0x27) fail(`value of attribute ${attrName} is not quoted`);
      const close = s.indexOf(quote === 0x22 ? '"' : "'", q + 1);
      if (close === -1) return -1;
      attrs ??= newAttrs();
      if (attrs[attrName] !== undefined) fail(`attribute ${attrName} repeated in <${qname}>`);
      attrs[attrName] = attributeValue(s.slice(q + 1, close));
      q = close + 1;
      const after = b[q];
      if (q < n && !isSpace(after) && after !== 0x3e && after !== 0x2f) fail(`attribute of <${qname}> not followed by a space`);
    }
  }

  private openElement(rawName: string, rawBytes: Uint8Array, qname: string, local: string, attrs: Attrs | undefined): void {
    if (this.rootClosed) fail('more than one root element');
    this.rootSeen = true;
    this.open.push(rawName);
    this.openBytes.push(rawBytes);
    this.events.open(qname, attrs, local);
  }

  private closeElement(): void {
    this.open.pop();
    this.openBytes.pop();
    if (this.open.length === 0) this.rootClosed = true;
    this.events.close();
  }

  private endTag(s: string, lt: number): number {
    const b = this.bytes;
    const top = this.open[this.open.length - 1];
    const topBytes = this.openBytes[this.openBytes.length - 1];
    if (top !== undefined && b[lt + 2 + top.length] === 0x3e && nameIsAt(b, lt + 2, topBytes)) {
      // The common end tag: the open element's name, then >.
      this.closeElement();
      return lt + 3 + top.length;
    }
    const gt = s.indexOf('>', lt + 2);
    if (gt === -1) return -1;
    if (top === undefined) fail('closing tag without an open element');
    let end = gt;
    while (end > lt + 2 && isSpace(b[end - 1])) end -= 1;
    if (end - (lt + 2) !== top.length || !s.startsWith(top, lt + 2)) fail(`</${utf8Of(s.slice(lt + 2, Math.min(end, lt + 42)))}> does not close <${utf8Of(top)}>`);
    this.closeElement();
    return gt + 1;
  }

  private bang(s: string, lt: number, final: boolean): number {
    const n = s.length;
    const rest = s.slice(lt, Math.min(n, lt + 9));
    for (const [opener, kind] of [['<!--', 'comment'], ['<![CDATA[', 'cdata'], ['<!DOCTYPE', 'doctype']] as const) {
      if (rest.startsWith(opener)) {
        if (kind === 'doctype') failInvalid('XML DOCTYPE declarations are not accepted in bank messages');
        if (kind === 'comment') {
          const end = s.indexOf('-->', lt + 4);
          if (end === -1) return -1;
          const body = s.slice(lt + 4, end);
          if (body.indexOf('--') !== -1 || body.endsWith('-')) fail('-- in a comment');
          return end + 3;
        }
        if (this.open.length === 0) fail('CDATA outside the root element');
        const end = s.indexOf(']]>', lt + 9);
        if (end === -1) return -1;
        this.atDocumentStart = false;
        const body = utf8Of(s.slice(lt + 9, end));
        this.events.text(body.indexOf('\r') === -1 ? body : body.replace(/\r\n?/g, '\n'));
        return end + 3;
      }
      // Cut before the opener could be told: wait for more, unless there is no more.
      if (!final && rest.length < opener.length && opener.startsWith(rest)) return -1;
    }
    return fail(`unknown markup ${JSON.stringify(rest)}`);
  }

  private processingInstruction(s: string, lt: number): number {
    const end = s.indexOf('?>', lt + 2);
    if (end === -1) return -1;
    const targetEnd = scanName(this.bytes, lt + 2);
    if (targetEnd === lt + 2) fail('processing instruction without a target');
    const target = nameAt(s, lt + 2, targetEnd);
    if (target.toLowerCase() === 'xml') {
      if (target !== 'xml' || !this.atDocumentStart) fail('XML declaration not at the start of the document');
      if (!xmlDeclPattern.test(s.slice(lt, end + 2))) fail('XML declaration is not well-formed');
    } else if (targetEnd < end && !isSpace(this.bytes[targetEnd])) fail(`processing instruction ${target} not followed by a space`);
    return end + 2;
  }
}

// ------------------------------------------------------------------------------------------
// Claiming elements

/** Collects what it needs from one claimed element, fed the events inside it (its descendants
 *  by local name, depth 1 for its children). Reused from one claimed element to the next. */
export interface XmlSubtreeReader {
  begin(attrs: Attrs | undefined): void;
  open(name: string, attrs: Attrs | undefined, depth: number, qname: string): void;
  text(text: string, depth: number): void;
  close(depth: number): void;
  /** The claimed element has closed: what to do with what was read, run in document order
   *  and awaited before more input is read. */
  finish(): () => void | Promise<void>;
}

export interface XmlStreamHandlers {
  /** Called with the path of local names of each element opened outside a claimed one: false
   *  to pass it by, true to collect its whole subtree for onElement, or a reader to collect
   *  what that reader wants of it. */
  collect: (path: readonly string[], loc: DocumentLocator) => boolean | XmlSubtreeReader;
  /** Receives each collected subtree once it is closed, in document order. Awaited: the input
   *  is not read further until it resolves. */
  onElement?: (el: XmlElement, path: readonly string[]) => void | Promise<void>;
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

const noAttrs: Attrs = Object.freeze(Object.create(null)) as Attrs;

function localAttrs(raw: Attrs | undefined): Attrs {
  const out = attributeRecord();
  if (!raw) return out;
  // An unqualified attribute over a prefixed one of the same local name (as xmlRead does).
  for (const k in raw) if (k.includes(':') && !k.startsWith('xmlns')) out[localName(k)] = raw[k];
  for (const k in raw) if (!k.includes(':') || k.startsWith('xmlns')) out[k] = raw[k];
  return out;
}

/** Builds whole subtrees for XmlStreamHandlers.collect returning true. */
class TreeCollector implements XmlSubtreeReader {
  private stack: XmlElement[] = [];
  private root!: XmlElement;
  constructor(
    private readonly name: string,
    private readonly qname: string,
    private readonly path: string[],
    private readonly deliver: (el: XmlElement, path: string[]) => void | Promise<void>,
  ) {}
  begin(attrs: Attrs | undefined): void {
    this.root = { name: this.name, qname: this.qname, attrs: localAttrs(attrs), children: [], text: '' };
    this.stack = [this.root];
  }
  open(name: string, attrs: Attrs | undefined, _depth: number, qname: string): void {
    const el: XmlElement = { name, qname, attrs: localAttrs(attrs), children: [], text: '' };
    this.stack[this.stack.length - 1].children.push(el);
    this.stack.push(el);
  }
  text(t: string): void {
    this.stack[this.stack.length - 1].text += t;
  }
  close(): void {
    this.stack.pop();
  }
  finish(): () => void | Promise<void> {
    const el = this.root;
    return () => this.deliver(el, this.path);
  }
}

const utf8Labels = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8']);
/** How much of the start of a document xmlDecoder reads for the declared encoding. */
const xmlDeclarationBytesMax = 200;

function invalidEncoding(err: unknown): BankMessageInvalid {
  return new BankMessageInvalid(`XML is not valid in its declared encoding: ${(err as Error).message}`);
}

/** The document as UTF-8 bytes read as latin1 (what XmlScanner reads), slice by slice, each
 *  ending on a whole character; without a byte-order mark. UTF-8 is checked, not decoded; a
 *  file in another declared encoding (GBK from Chinese banks) is decoded and re-encoded. */
class Latin1Slices {
  private decoder: TextDecoder | undefined;
  private utf8 = false;
  private carry: Buffer | undefined;
  private first = true;
  private head: Buffer[] = [];
  private headBytes = 0;

  /** The text of `slice` for the scanner; undefined while the declaration is still being gathered. */
  push(slice: Buffer): string | undefined {
    if (this.decoder) return this.convert(slice);
    // The encoding is read from the declaration, so the first bytes are gathered until they
    // hold it, however the input was cut.
    this.head.push(slice);
    this.headBytes += slice.length;
    if (this.headBytes < xmlDeclarationBytesMax) return undefined;
    const joined = Buffer.concat(this.head);
    this.head = [];
    return this.convert(joined);
  }

  /** What is left once the input has ended (the head of a short document, a decoder's rest). */
  end(): string[] {
    const out: string[] = [];
    if (!this.decoder && this.headBytes > 0) out.push(this.convert(Buffer.concat(this.head)));
    if (this.carry) throw invalidEncoding(new Error('the document ends inside a UTF-8 character'));
    if (this.decoder && !this.utf8) {
      try {
        const rest = this.decoder.decode();
        if (rest) out.push(Buffer.from(rest, 'utf8').toString('latin1'));
      } catch (err) {
        throw invalidEncoding(err);
      }
    }
    return out;
  }

  private convert(slice: Buffer): string {
    this.decoder ??= xmlDecoder(slice);
    this.utf8 = utf8Labels.has(this.decoder.encoding);
    let bytes: Buffer;
    if (this.utf8) {
      const joined = this.carry ? Buffer.concat([this.carry, slice]) : slice;
      const end = utf8Boundary(joined);
      this.carry = end < joined.length ? Buffer.from(joined.subarray(end)) : undefined;
      bytes = joined.subarray(0, end);
      if (!isUtf8(bytes)) throw invalidEncoding(new Error('malformed UTF-8'));
    } else {
      let text: string;
      try {
        text = this.decoder.decode(slice, { stream: true });
      } catch (err) {
        throw invalidEncoding(err);
      }
      bytes = Buffer.from(text, 'utf8');
    }
    if (this.first && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    this.first = false;
    return bytes.toString('latin1');
  }
}

/** Where the last whole UTF-8 character of `b` ends: a sequence cut by the slice is carried. */
function utf8Boundary(b: Buffer): number {
  const n = b.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const c = b[n - back];
    if (c < 0x80) return n;
    if (c >= 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return back < need ? n - back : n;
    }
  }
  return n;
}

// The limits as plain bindings: imported bindings are read through a getter per access when
// the module runs as CommonJS (tsx), and these are read for each of millions of elements.
const depthMax = xmlDepthMax;
const elementsMax = xmlElementsMax;
const textCharsMax = xmlTextCharsMax;

/** localName (xmlRead.ts), likewise without a getter per call. */
function localOf(qname: string): string {
  const i = qname.indexOf(':');
  return i === -1 ? qname : qname.slice(i + 1);
}

/** The scanner with the handlers' claims: element paths, limits, the claimed element's reader.
 *  What a claimed element came to waits in `ready`, to be run in document order by the caller
 *  before it writes more. */
class XmlDriver {
  readonly ready: (() => void | Promise<void>)[] = [];
  private readonly scanner: XmlScanner;
  private total = 0;

  constructor(handlers: XmlStreamHandlers) {
    const path: string[] = [];
    const loc: DocumentLocator = { qnames: [], attrs: [] };
    const textChars: number[] = [];
    let reader: XmlSubtreeReader | undefined;
    let claimDepth = 0;
    let claimedElements = 0;
    const ready = this.ready;
    this.scanner = new XmlScanner({
      open(qname, attrs, name) {
        const depth = path.length;
        if (depth >= depthMax) failInvalid(`XML nests deeper than ${depthMax}`);
        path.push(name);
        textChars.push(0);
        if (reader) {
          claimedElements += 1;
          if (claimedElements > elementsMax) failInvalid(`XML element has more than ${elementsMax} elements`);
          // Nothing outside a claimed element needs its descendants' names or attributes: the
          // locator stops at the claimed element.
          reader.open(name, attrs, depth - claimDepth, qname);
          return;
        }
        loc.qnames.push(qname);
        loc.attrs.push(attrs ?? noAttrs);
        const claim = handlers.collect(path, loc);
        if (claim === false) return;
        if (claim === true) {
          if (!handlers.onElement) throw new Error('assertion: collecting subtrees needs onElement');
          reader = new TreeCollector(name, qname, [...path], handlers.onElement);
        } else reader = claim;
        reader.begin(attrs);
        claimDepth = depth;
        claimedElements = 1;
      },
      text(t) {
        const depth = path.length - 1;
        const chars = textChars[depth] + t.length;
        if (chars > textCharsMax) failInvalid(`XML element ${path[depth]} has more than ${textCharsMax} characters of text`);
        textChars[depth] = chars;
        if (reader) reader.text(t, depth - claimDepth);
      },
      close() {
        const depth = path.length - 1;
        path.pop();
        textChars.pop();
        if (reader) {
          if (depth > claimDepth) {
            reader.close(depth - claimDepth);
            return;
          }
          ready.push(reader.finish());
          reader = undefined;
        }
        loc.qnames.pop();
        loc.attrs.pop();
      },
    });
  }

  write(text: string): void {
    this.total += text.length;
    if (hasMarkupDeclarationOpener(text)) refuseDeclarations(text);
    this.scanner.write(text);
  }

  end(): void {
    if (this.total === 0) throw new BankMessageInvalid('XML document is empty');
    this.scanner.close();
  }
}

/** Streams an XML document with bounded memory: nothing is built outside what is collected,
 *  and each collected element is handed to the consumer (awaited) before more input is read. */
export async function streamXml(input: Readable | NodeJS.ReadableStream | Buffer | string, handlers: XmlStreamHandlers): Promise<void> {
  const driver = new XmlDriver(handlers);
  const slices = new Latin1Slices();
  // A consumer that is done at once is not awaited: a statement hands over 100,000 entries, and
  // a turn of the microtask queue for each costs more than reading it.
  const drain = async () => {
    const ready = driver.ready;
    for (let i = 0; i < ready.length; i++) {
      const done = ready[i]();
      if (done !== undefined) await done;
    }
    ready.length = 0;
  };
  for await (const slice of bytesOf(input)) {
    const text = slices.push(slice);
    if (text === undefined) continue;
    driver.write(text);
    if (driver.ready.length > 0) await drain();
  }
  for (const text of slices.end()) {
    driver.write(text);
    await drain();
  }
  driver.end();
  await drain();
}

/** streamXml for a document already in memory whose handlers are synchronous (a notification
 *  read inside its request): the same scanner and guards, without a turn of the event loop per
 *  slice. */
export function scanXml(input: Buffer | string, handlers: XmlStreamHandlers): void {
  const driver = new XmlDriver(handlers);
  const slices = new Latin1Slices();
  const drain = () => {
    while (driver.ready.length > 0) {
      if (driver.ready.shift()!() instanceof Promise) throw new Error('assertion: scanXml needs synchronous handlers');
    }
  };
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  for (let i = 0; i < buf.length; i += xmlStreamSliceBytes) {
    const text = slices.push(buf.subarray(i, i + xmlStreamSliceBytes));
    if (text === undefined) continue;
    driver.write(text);
    drain();
  }
  for (const text of slices.end()) {
    driver.write(text);
    drain();
  }
  driver.end();
  drain();
}
