// Renders a voucher (凭证) as an unsigned A4 PDF. Signing is a separate step (sign.ts) that fills
// the empty signature field created here, so a renderer never needs a private key and a signer
// never needs to know the layout.
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFString } from 'pdf-lib';
import { embedVoucherFonts } from './fonts';
import { PageWriter } from './layoutPage';
import { layoutVoucherBody, titleOf } from './layouts';

// ---------------------------------------------------------------------------------------------
// Input. Amounts are bigint fen; times and dates are ISO-8601 strings (instants with an offset,
// business dates as YYYY-MM-DD), shown in Asia/Shanghai.

export interface PartyIdentity {
  name: string;
  /** 统一社会信用代码 */
  uscc?: string;
}

export interface SectionIdentity {
  projectCode: string;
  projectName?: string;
  sectionCode: string;
  sectionName: string;
  tenderee?: PartyIdentity;
}

export interface BankAccountIdentity {
  name: string;
  number: string;
  /** 12-digit CNAPS code */
  bankCode?: string;
  bankName?: string;
}

interface VoucherCommon {
  voucherId: string;
  issuedAt: string;
  /** The operator issuing the voucher (the trading centre). */
  centre: PartyIdentity;
  section?: SectionIdentity;
  /** Where `POST /v1/vouchers/verify` (or a page that calls it) lives; encoded in the QR code. */
  verifyUrl: string;
  /** Lowercase hex SHA-256 of the database record the voucher attests; printed and encoded in
   *  the QR code so a reader can compare the paper against the record. */
  recordSha256: string;
}

export type SecurityKind = 'bank' | 'insurance' | 'guarantor';

export interface DepositReceiptData {
  depositId: string;
  bidder: PartyIdentity;
  amountFen: bigint;
  bookedAt: string;
  valueDate: string;
  virtualAccount: string;
  payer: BankAccountIdentity;
  bankEntryRef: string;
  remittance?: string;
  status: 'received' | 'valid' | 'invalid' | 'suspense';
  /** Rule ids the deposit failed (R3, R4, R5…), empty when valid. */
  failedRules: string[];
}

export interface RefundVoucherData {
  refundId: string;
  depositId: string;
  bidder: PartyIdentity;
  reason: 'withdrawal' | 'contract_signed' | 'not_awarded' | 'termination' | 'excess' | 'invalid_deposit' | 'other';
  /** Rule ids that required the refund (R9, R11, R16…). */
  rules: string[];
  payee: BankAccountIdentity;
  principalFen: bigint;
  interestFen: bigint;
  lateFeeFen: bigint;
  /** Must equal principal + interest + late fee; asserted when rendering. */
  totalFen: bigint;
  interest: { valueDateFrom: string; valueDateTo: string; days: number; annualRatePercent: string };
  lateFee?: { days: number; annualRatePercent: string };
  dueBy: string;
  settledAt?: string;
  bankReference?: string;
}

export interface GuaranteeIdentity {
  number: string;
  kind: SecurityKind;
  amountFen: bigint;
  validFrom: string;
  validTo: string;
  issuedAt: string;
  applicant: PartyIdentity;
  beneficiary: PartyIdentity;
  projectCode: string;
  sectionCode: string;
  status: string;
  documentSha256?: string;
}

export interface IssuerIdentity {
  name: string;
  kind: SecurityKind;
  bankCode?: string;
  certificateFingerprint?: string;
}

export interface VerificationReportData {
  guarantee: GuaranteeIdentity;
  issuer: IssuerIdentity;
  authentic: boolean;
  verifiedAt: string;
  checks: { rule: string; ok: boolean; detail: string }[];
}

export interface OpeningRosterData {
  openedAt: string;
  bidDeadline: string;
  requiredDepositFen: bigint;
  entries: {
    bidder: PartyIdentity;
    security: 'cash' | 'guarantee' | 'none';
    status: 'secured' | 'insufficient' | 'invalid' | 'missing';
    /** Credited total or guaranteed amount; absent when nothing was found. */
    amountFen?: bigint;
    /** Deposit ids or the guarantee number. */
    reference?: string;
    rules: string[];
  }[];
}

export interface ClaimNoticeData {
  claimId: string;
  guarantee: GuaranteeIdentity;
  issuer: IssuerIdentity;
  claimAmountFen: bigint;
  /** The R12 ground. */
  ground: 'withdrawal_after_deadline' | 'refused_to_sign' | 'conditions_at_signing' | 'no_performance_security' | 'false_documents';
  reasonText: string;
  decidedBy: string;
  decidedAt: string;
  paymentAccount?: BankAccountIdentity;
}

export interface ReconciliationReportData {
  reconciliationId: string;
  bank: { name: string; bankCode: string };
  trustAccount: { number: string; name: string };
  statementDate: string;
  balances: { openingFen: bigint; closingBankFen: bigint; closingLedgerFen: bigint };
  matched: { count: number; creditsFen: bigint; debitsFen: bigint };
  exceptions: {
    kind: 'missing_in_ledger' | 'missing_in_bank' | 'amount_mismatch' | 'duplicate';
    entryRef: string;
    amountFen: bigint;
    detail: string;
  }[];
}

export type VoucherInput =
  | (VoucherCommon & { kind: 'deposit_receipt'; data: DepositReceiptData })
  | (VoucherCommon & { kind: 'refund_voucher'; data: RefundVoucherData })
  | (VoucherCommon & { kind: 'verification_report'; data: VerificationReportData })
  | (VoucherCommon & { kind: 'opening_roster'; data: OpeningRosterData })
  | (VoucherCommon & { kind: 'claim_notice'; data: ClaimNoticeData })
  | (VoucherCommon & { kind: 'reconciliation_report'; data: ReconciliationReportData });

export type VoucherKind = VoucherInput['kind'];
export const voucherKinds: readonly VoucherKind[] = ['deposit_receipt', 'refund_voucher', 'verification_report', 'opening_roster', 'claim_notice', 'reconciliation_report'];

/** Info-dictionary key holding the voucher id; verify.ts reads it back from the signed bytes. */
export const voucherIdInfoKey = 'BidbondVoucherId';
/** Voucher ids are ASCII (`vch_…`), which keeps them literal in the Info dictionary and
 *  findable by verify.ts without a PDF parser. */
export const voucherIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
/** Name of the signature field render.ts reserves and sign.ts fills. */
export const signatureFieldName = 'BidbondSignature';

export interface RenderOptions {
  /** Tests only: embed the whole 10 MB fonts, to prove the subset keeps every glyph. */
  subsetFonts?: boolean;
}

export async function renderVoucher(input: VoucherInput, opts: RenderOptions = {}): Promise<Uint8Array> {
  if (!voucherIdPattern.test(input.voucherId)) throw new Error(`assertion: voucher id ${JSON.stringify(input.voucherId)} is not ${voucherIdPattern}`);
  if (!/^[0-9a-f]{64}$/.test(input.recordSha256)) throw new Error('assertion: recordSha256 must be 64 lowercase hex characters');
  const issuedAt = new Date(input.issuedAt);
  if (Number.isNaN(issuedAt.getTime())) throw new Error(`assertion: issuedAt ${JSON.stringify(input.issuedAt)} is not an ISO time`);

  // Dates fixed from the input rather than the clock: the same record renders to the same bytes.
  const doc = await PDFDocument.create({ updateMetadata: false });
  const title = titleOf(input.kind);
  doc.setTitle(`${title.zh} ${title.en} ${input.voucherId}`);
  doc.setSubject(input.voucherId);
  doc.setKeywords(['bidbond', 'voucher', input.kind, input.voucherId, `record-sha256:${input.recordSha256}`]);
  doc.setAuthor(input.centre.name);
  doc.setCreator('bidbond');
  doc.setProducer('bidbond (pdf-lib)');
  doc.setLanguage('zh-CN');
  doc.setCreationDate(issuedAt);
  doc.setModificationDate(issuedAt);
  const info = doc.context.lookup(doc.context.trailerInfo.Info, PDFDict);
  info.set(PDFName.of(voucherIdInfoKey), PDFString.of(input.voucherId));

  const subset = opts.subsetFonts ?? true;
  // Deflating two 10 MB fonts costs seconds and the comparison needs no compression.
  if (!subset) doc.context.flateStream = (contents, dict) => doc.context.stream(contents, dict);
  const fonts = await embedVoucherFonts(doc, { subset });
  const writer = new PageWriter(doc, fonts, title);
  await layoutVoucherBody(writer, input);
  const slot = writer.signatureSlot();
  writer.footers(input.voucherId);
  addEmptySignatureField(doc, slot.pageIndex, slot.rect);
  // objectsPerTick: pdf-lib otherwise sleeps a timer tick every 50 objects while writing.
  return doc.save({ useObjectStreams: false, objectsPerTick: Number.MAX_SAFE_INTEGER });
}

/** An unsigned signature field at the reserved box: viewers show "click to sign" there until
 *  sign.ts fills it. */
function addEmptySignatureField(doc: PDFDocument, pageIndex: number, rect: [number, number, number, number]): void {
  const page = doc.getPage(pageIndex);
  const widget = doc.context.obj({
    Type: 'Annot',
    Subtype: 'Widget',
    FT: 'Sig',
    T: PDFString.of(signatureFieldName),
    Rect: rect,
    F: 4, // Print
    P: page.ref,
  });
  const widgetRef = doc.context.register(widget);
  let annots = page.node.lookupMaybe(PDFName.of('Annots'), PDFArray);
  if (!annots) {
    annots = doc.context.obj([]);
    page.node.set(PDFName.of('Annots'), annots);
  }
  annots.push(widgetRef);
  const acroForm = doc.context.obj({ Fields: [widgetRef] });
  doc.catalog.set(PDFName.of('AcroForm'), doc.context.register(acroForm));
}
