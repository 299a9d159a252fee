// Which ISO 20022 message a document is. The namespace decides when there is one (and must agree
// with the structure); a file without one, or with a mis-spelled `Xmlns`, is known by the element
// under Document.
import { BankMessageInvalid } from './types';
import { localName, type DocumentLocator, type XmlElement } from './xmlRead';

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
