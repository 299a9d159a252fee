// Streaming reading of bank XML, for statements too large to hold: the same guards as a whole
// read (xmlRead.ts), with memory bounded by what the consumer collects.
import type { Readable } from 'node:stream';
import type { TextDecoder } from 'node:util';
import { BankMessageInvalid } from './types';
import { xmlDepthMax, xmlElementsMax, xmlStreamSliceBytes, xmlTextCharsMax } from './xmlLimits';
import { failInvalid, localName, newParser, refuseDeclarations, xmlDecoder, type DocumentLocator, type XmlElement } from './xmlRead';

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
    // No prototype: an attribute named `__proto__` or `constructor` is just an attribute.
    const attrsLocal: Record<string, string> = Object.create(null);
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
