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

/** ISO 20022 namespaces: "urn:iso:std:iso:20022:tech:xsd:<message>.<version>". */
const namespacePattern = /^urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.\d{3})\.(\d{3}\.\d{2})$/;
/** The characters of a declared namespace quoted back in an error: enough to recognise it. */
export const namespaceQuotedCharsMax = 120;

function versionsFrom(first: number, last: number): readonly string[] {
  return Array.from({ length: last - first + 1 }, (_, i) => `001.${String(first + i).padStart(2, '0')}`);
}

/** The camt versions banks send, from .001.02 (2009, still the most common) to the current
 *  .001.13. The elements read here (GrpHdr/MsgId; Stmt or Ntfctn with Id, ElctrncSeqNb or
 *  LglSeqNb, CreDtTm, FrToDt, Acct/Id, Bal; Ntry with Amt, CdtDbtInd, RvslInd, Sts, BookgDt,
 *  ValDt, AcctSvcrRef, NtryRef, BkTxCd/Domn and NtryDtls/TxDtls with Refs, Amt or AmtDtls,
 *  CdtDbtInd, RltdPties, RltdAgts, RmtInf/Ustrd and RtrInf) keep their names and places
 *  across them; what moved is read in both places (Sts as text before .001.07, as Sts/Cd
 *  after; a party's Nm directly before .001.08, in Pty after; BIC before .001.05, BICFI after;
 *  a transaction's amount in AmtDtls/TxAmt in .001.02, TxDtls/Amt after). A version outside
 *  this list is refused rather than guessed at: a future one may move what we read. */
export const camtVersionsRead: readonly string[] = versionsFrom(2, 13);

/** Versions read per message; undefined: any version (the pain messages, where we read only the
 *  status report's codes and references, which no version has moved). */
export const isoMessageVersions: Record<IsoMessageType, readonly string[] | undefined> = {
  'camt.053': camtVersionsRead,
  'camt.054': camtVersionsRead,
  'pain.001': undefined,
  'pain.002': undefined,
};

function quoted(ns: string): string {
  return JSON.stringify(ns.length > namespaceQuotedCharsMax ? `${ns.slice(0, namespaceQuotedCharsMax)}…` : ns);
}

function isMessageType(v: string): v is IsoMessageType {
  return (Object.values(messageRoots) as string[]).includes(v);
}

/** What a properly declared namespace says, or a refusal that quotes it. */
function messageOfNamespace(ns: string): { type: IsoMessageType; version: string } {
  const m = namespacePattern.exec(ns);
  if (!m) throw new BankMessageInvalid(`XML namespace ${quoted(ns)} is not an ISO 20022 namespace this service reads`);
  const [, message, version] = m;
  if (!isMessageType(message)) {
    throw new BankMessageInvalid(`XML namespace ${quoted(ns)} is ${message}, a message this service does not read (it reads ${Object.values(messageRoots).join(', ')})`);
  }
  const versions = isoMessageVersions[message];
  if (versions && !versions.includes(version)) {
    throw new BankMessageInvalid(`XML namespace ${quoted(ns)} is ${message} version ${version}, which this service does not read (it reads ${message}.${versions[0]} to .${versions[versions.length - 1]})`);
  }
  return { type: message, version };
}

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
  const qname = loc.qnames[docIndex];
  const prefix = qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : undefined;
  const { ns, misspelled } = declaredNamespace(loc.attrs.slice(0, docIndex + 2), prefix);
  // A namespace declared properly decides which message this is, and is what a refusal names;
  // a mis-spelled one (`Xmlns`) is no namespace to an XML reader, so it may only confirm.
  const declared = ns !== undefined && !misspelled ? messageOfNamespace(ns.trim()) : undefined;
  // Own keys only: an element named `constructor` must not find Object's.
  const structural = Object.hasOwn(messageRoots, rootName) ? messageRoots[rootName] : undefined;
  if (!structural) {
    const said = declared ? ` (namespace ${quoted(ns!.trim())})` : ns !== undefined ? ` (namespace ${quoted(ns.trim())}, mis-spelled)` : '';
    throw new BankMessageInvalid(`XML message ${rootName}${said} is not one this service reads`);
  }
  if (declared && declared.type !== structural) throw new BankMessageInvalid(`XML namespace says ${declared.type} but the message is ${structural}`);
  const info: IsoMessageInfo = { type: structural, namespaceMisspelled: misspelled };
  if (declared) {
    info.version = declared.version;
    info.namespace = ns!.trim();
  } else if (ns !== undefined) {
    // Mis-spelled: it still says what the bank meant, so a contradiction is refused as well.
    const m = namespacePattern.exec(ns.trim());
    if (m && isMessageType(m[1]) && m[1] !== structural) throw new BankMessageInvalid(`XML namespace says ${m[1]} but the message is ${structural}`);
    if (m && m[1] === structural) info.version = m[2];
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
