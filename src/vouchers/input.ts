// What a voucher is rendered from: the identity every voucher carries and the facts each kind
// shows. A module of its own because render.ts calls layouts.ts and both need these types.
//
// Amounts are bigint fen; times and dates are ISO-8601 strings (instants with an offset,
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

export interface VoucherCommon {
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
    security: 'cash' | 'guarantee' | 'exemption' | 'none';
    status: 'secured' | 'insufficient' | 'invalid' | 'missing';
    /** Credited total or guaranteed amount; absent when nothing was found. */
    amountFen?: bigint;
    /** Deposit ids or the guarantee number. */
    reference?: string;
    /** The credit finding that exempted the bidder (信用免缴), with `security: 'exemption'`. */
    exemption?: { grade: string; source: string; validFrom: string; validTo: string };
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

/** The bank took a credit back (冲正): the deposit no longer secures anything. Frozen whole
 *  when the reversal is recorded. */
export interface DepositReversalData {
  depositId: string;
  bidder: PartyIdentity;
  amountFen: bigint;
  currency: string;
  virtualAccount: string;
  /** Where the bank sent the money back: the account that paid it. */
  payer: BankAccountIdentity;
  /** The credit taken back, as the bank booked it. */
  originalEntryRef: string;
  originalBookedAt: string;
  /** The receipt issued for the credit; only a credit that became valid has one. */
  receiptVoucherId: string | null;
  /** The bank's reversal entry and its booking. */
  reversalEntryRef: string;
  reversedAt: string;
  statusBefore: 'received' | 'valid' | 'invalid' | 'held';
  /** The roster fixed at the opening counted the deposit as it stood. */
  afterOpening: boolean;
  /** Refunds that were owed on the deposit and are no longer paid. */
  cancelledRefundIds: string[];
}

/** A refund the payee's bank sent back (退汇): the money is in the trust account again and still
 *  owed to the bidder. Frozen by the refunds module when it records the return. */
export interface RefundReturnData {
  refundId: string;
  depositId: string;
  sectionId: string | null;
  bidderId: string | null;
  creditorAccount: string;
  creditorName: string;
  /** Decimal yuan as formatAmount writes it ("50000.00"). */
  amount: string;
  /** ISO 20022 ExternalReturnReason1Code (AC04, AC01, BE01...). */
  returnReasonCode: string;
  returnReasonText: string | null;
  originalEndToEndId: string;
  returnedAt: string;
}

/** A count and an amount of decimal yuan, as the statistics answer writes them ("50000.00"). */
export interface StatisticsCountAmount {
  count: number;
  amount: string;
}

/** The figures of one group (or of the whole period), exactly as `GET /v1/statistics` answers. */
export interface StatisticsFigures {
  sections: { created: number; opened: number; terminated: number };
  bids: {
    secured: number;
    cash: StatisticsCountAmount;
    guarantee: StatisticsCountAmount;
    /** 保函替代率 as decimal shares ("0.6667"), null without secured bids. */
    guaranteeShare: { byCount: string | null; byAmount: string | null };
  };
  guarantees: { bank: StatisticsCountAmount; insurance: StatisticsCountAmount; guarantor: StatisticsCountAmount; rejected: number };
  deposits: { received: StatisticsCountAmount };
  refunds: {
    paid: StatisticsCountAmount;
    interestPaid: string;
    lateFeesPaid: string;
    onTime: number;
    late: number;
    r11: { onTime: number; late: number };
    daysHeld: { mean: string | null; p95: string | null };
  };
  forfeitures: StatisticsCountAmount;
  claimsPaid: StatisticsCountAmount;
}

/** The statistics answer frozen whole when the centre asks for the voucher, so the record's
 *  SHA-256 covers every figure printed. */
export interface StatisticsReportData {
  object: 'statistics';
  from: string;
  to: string;
  groupBy: 'month' | 'tenderee' | 'bank' | 'issuer' | 'regime' | null;
  currency: 'CNY';
  totals: StatisticsFigures;
  groups: ({ key: string | null; name: string | null } & StatisticsFigures)[];
}

/** Each kind and the data it shows. */
export interface VoucherDataByKind {
  deposit_receipt: DepositReceiptData;
  refund_voucher: RefundVoucherData;
  verification_report: VerificationReportData;
  opening_roster: OpeningRosterData;
  claim_notice: ClaimNoticeData;
  reconciliation_report: ReconciliationReportData;
  deposit_reversal: DepositReversalData;
  refund_return: RefundReturnData;
  statistics: StatisticsReportData;
}

export type VoucherKind = keyof VoucherDataByKind;

/** A voucher of kind K; with K a union, one member per kind, so that `kind` narrows `data`. */
export type VoucherInputOf<K extends VoucherKind> = { [P in K]: VoucherCommon & { kind: P; data: VoucherDataByKind[P] } }[K];
export type VoucherInput = VoucherInputOf<VoucherKind>;

export const voucherKinds: readonly VoucherKind[] = [
  'deposit_receipt',
  'refund_voucher',
  'verification_report',
  'opening_roster',
  'claim_notice',
  'reconciliation_report',
  'deposit_reversal',
  'refund_return',
  'statistics',
];
