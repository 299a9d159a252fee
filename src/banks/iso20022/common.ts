// Pieces shared by the ISO 20022 builders and parsers: field limits from the schemas, and the
// readers for the blocks that look the same in every message (amounts, accounts, agents).
import { BankMessageInvalid } from '../types';
import { parseBankDecimal } from '../../domain/money';
import { child, childrenNamed, textAt, type XmlElement } from '../xmlRead';
import { escapeXml, truncateToChars } from '../xmlWrite';

/** Max35Text: message ids, end-to-end ids, references. Ids are never truncated (they must stay
 *  unique), so a longer one is a programming error. */
export const isoIdCharsMax = 35;
/** Max34Text: Othr/Id, where Chinese domestic account numbers go (they have no IBAN). */
export const isoAccountCharsMax = 34;
/** Max140Text: party names and one Ustrd line. Longer names are truncated (see isoText). */
export const isoNameCharsMax = 140;
export const isoRemittanceCharsMax = 140;
/** Max105Text: AddtlInf of a status reason. */
export const isoAdditionalInfoCharsMax = 105;
/** ExternalStatusReason1Code and the status codes: 1 to 4 characters. */
export const isoCodeCharsMax = 4;
/** The clearing system code we write and expect for Chinese branch codes. */
export const cnapsClearingSystem = 'CNAPS';

export function assertId(value: string, what: string): void {
  if (value.length === 0 || Array.from(value).length > isoIdCharsMax) {
    throw new Error(`assertion: ${what} must be 1 to ${isoIdCharsMax} characters, got ${JSON.stringify(value)}`);
  }
}

export function assertAccount(value: string, what: string): void {
  if (value.length === 0 || value.length > isoAccountCharsMax) {
    throw new Error(`assertion: ${what} must be 1 to ${isoAccountCharsMax} characters, got ${JSON.stringify(value)}`);
  }
}

/** Free text for a MaxNText field: control characters removed, whitespace runs collapsed, then
 *  truncated to the schema's length in characters. Truncation is deliberate: a bank rejects the
 *  whole file for a 141-character name, while the first 140 characters identify the party just
 *  as well (Chinese company names are far shorter; long ones are transliterations). Returns
 *  the escaped text, never empty (the schema's minLength is 1). */
export function isoText(value: string, charsMax: number, fallback = 'NOTPROVIDED'): string {
  const cleaned = value.replace(/[\u0000-\u001F\u007F\uFFFE\uFFFF]/g, ' ').replace(/\s+/g, ' ').trim();
  return escapeXml(truncateToChars(cleaned === '' ? fallback : cleaned, charsMax));
}

/** Othr/Id account element body. */
export function accountXml(accountNumber: string): string {
  return `<Id><Othr><Id>${escapeXml(accountNumber)}</Id></Othr></Id>`;
}

/** An agent by CNAPS branch code; without one, the schema still needs an identification. */
export function agentXml(bankCode: string | undefined): string {
  if (bankCode) {
    return `<FinInstnId><ClrSysMmbId><ClrSysId><Cd>${cnapsClearingSystem}</Cd></ClrSysId><MmbId>${escapeXml(bankCode)}</MmbId></ClrSysMmbId></FinInstnId>`;
  }
  return '<FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId>';
}

// ------------------------------------------------------------------------------------------
// Reading

/** An account number from an `...Acct` element: Othr/Id (domestic), else IBAN. */
export function readAccount(acct: XmlElement | undefined): string | undefined {
  return textAt(acct, 'Id', 'Othr', 'Id') ?? textAt(acct, 'Id', 'IBAN');
}

/** A branch code from an agent: ClrSysMmbId/MmbId (CNAPS here), else the BIC. */
export function readAgentCode(agent: XmlElement | undefined): string | undefined {
  const fin = child(agent, 'FinInstnId');
  return textAt(fin, 'ClrSysMmbId', 'MmbId') ?? textAt(fin, 'BICFI') ?? textAt(fin, 'BIC');
}

/** A party's name: camt .08 nests it in Pty (Party40Choice), older versions do not. */
export function readPartyName(party: XmlElement | undefined): string | undefined {
  return textAt(party, 'Pty', 'Nm') ?? textAt(party, 'Nm') ?? textAt(party, 'Agt', 'FinInstnId', 'Nm');
}

/** An amount element as fen and currency, exactly (never through a JS number). */
export function readAmount(el: XmlElement | undefined, what: string): { amountFen: bigint; currency: string } {
  return amountOfText(el?.text, el ? el.attrs.Ccy : undefined, what);
}

/** An amount from its element's text and Ccy attribute as written (undefined text: no element). */
export function amountOfText(text: string | undefined, ccy: string | undefined, what: string): { amountFen: bigint; currency: string } {
  const raw = text?.trim();
  if (text === undefined || !raw) throw new BankMessageInvalid(`${what}: missing amount`);
  let amountFen: bigint;
  try {
    amountFen = parseBankDecimal(raw);
  } catch (err) {
    throw new BankMessageInvalid(`${what}: ${(err as Error).message}`);
  }
  const currency = ccy?.trim();
  if (!currency) throw new BankMessageInvalid(`${what}: amount has no Ccy`);
  return { amountFen, currency };
}

/** DecimalNumber (CtrlSum): 18 digits in all. A batch's control sum may exceed the 15 integer
 *  digits of a single amount, so it is read here rather than by parseBankDecimal. */
export const isoDecimalDigitsMax = 18;

export function readControlSum(el: XmlElement | undefined, what: string): bigint | undefined {
  const raw = el?.text.trim();
  if (!raw) return undefined;
  const m = /^(\d+)(?:\.(\d+))?$/.exec(raw);
  if (!m || m[1].length + (m[2]?.length ?? 0) > isoDecimalDigitsMax + 2 || /[1-9]/.test((m[2] ?? '').slice(2))) {
    throw new BankMessageInvalid(`${what}: not a decimal amount in fen: ${JSON.stringify(raw.slice(0, 40))}`);
  }
  return BigInt(m[1]) * 100n + BigInt((m[2] ?? '').slice(0, 2).padEnd(2, '0'));
}

/** A status reason: Rsn/Cd, else Rsn/Prtry; and the first AddtlInf lines joined. */
export function readStatusReason(parent: XmlElement | undefined): { code?: string; text?: string } {
  const info = childrenNamed(parent, 'StsRsnInf')[0];
  if (!info) return {};
  const code = textAt(info, 'Rsn', 'Cd') ?? textAt(info, 'Rsn', 'Prtry');
  const lines = childrenNamed(info, 'AddtlInf')
    .map((e) => e.text.trim())
    .filter((t) => t !== '');
  const out: { code?: string; text?: string } = {};
  if (code) out.code = code;
  if (lines.length) out.text = lines.join(' ');
  return out;
}

export function namespaceOf(message: string): string {
  return `urn:iso:std:iso:20022:tech:xsd:${message}`;
}
