// What each kind of voucher says. Labels are Chinese with an English sub-label because the
// records are read by trading-centre staff, bidders' finance departments and, in disputes,
// auditors and courts; the Chinese text is the one of record.
import { toChineseCapital } from '../domain/capital';
import { formatAmount, parseAmount } from '../domain/money';
import { shanghaiOffsetMinutes } from '../domain/time';
import type { Column, Label, PageWriter } from './layoutPage';
import type {
  BankAccountIdentity,
  ClaimNoticeData,
  DepositReceiptData,
  DepositReversalData,
  GuaranteeIdentity,
  IssuerIdentity,
  OpeningRosterData,
  PartyIdentity,
  ReconciliationReportData,
  RefundReturnData,
  RefundVoucherData,
  SecurityKind,
  StatisticsFigures,
  StatisticsReportData,
  VerificationReportData,
  VoucherDataByKind,
  VoucherInput,
  VoucherInputOf,
  VoucherKind,
} from './input';

const titles: Record<VoucherKind, Label> = {
  deposit_receipt: { zh: '投标保证金收据', en: 'Bid deposit receipt' },
  refund_voucher: { zh: '投标保证金退款凭证', en: 'Bid deposit refund voucher' },
  verification_report: { zh: '电子保函验真报告', en: 'Electronic guarantee verification report' },
  opening_roster: { zh: '开标保证金核验表', en: 'Bid security roster at opening' },
  claim_notice: { zh: '保函索赔通知', en: 'Notice of claim under guarantee' },
  reconciliation_report: { zh: '保证金账户对账报告', en: 'Deposit trust account reconciliation report' },
  deposit_reversal: { zh: '投标保证金冲正凭证', en: 'Bid deposit reversed by the bank' },
  refund_return: { zh: '投标保证金退款退汇凭证', en: "Bid deposit refund returned by the payee's bank" },
  statistics: { zh: '投标担保统计报表', en: 'Bid security statistics' },
};

export function titleOf(kind: VoucherKind): Label {
  return titles[kind];
}

const l = (zh: string, en: string): Label => ({ zh, en });

/** "¥1,234,567.89": digits grouped on the string formatAmount wrote, never via a float. */
export function displayAmount(fen: bigint): string {
  const s = formatAmount(fen);
  const negative = s.startsWith('-');
  const [integer, fraction] = (negative ? s.slice(1) : s).split('.');
  const grouped = integer.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}¥${grouped}.${fraction}`;
}

/** An instant shown in China Standard Time, e.g. "2025-03-01 14:30:00 (UTC+8)"; a business date
 *  (YYYY-MM-DD) is shown as given. */
export function displayTime(iso: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const local = new Date(ms + shanghaiOffsetMinutes * 60_000).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 19)} (UTC+8)`;
}

const party = (p: PartyIdentity): string => (p.uscc ? `${p.name}（统一社会信用代码 USCC ${p.uscc}）` : p.name);
const account = (a: BankAccountIdentity): string =>
  [a.name, `账号 A/C ${a.number}`, a.bankName, a.bankCode ? `行号 CNAPS ${a.bankCode}` : undefined].filter(Boolean).join('  ');
const yesNo = (ok: boolean): string => (ok ? '通过 Pass' : '不通过 Fail');

const securityKinds: Record<SecurityKind, string> = {
  bank: '银行保函 Bank guarantee',
  insurance: '保证保险保单 Surety insurance',
  guarantor: '担保公司保函 Guarantor guarantee',
};

function commonBlock(w: PageWriter, input: VoucherInput): void {
  const rows: { label: Label; value: string }[] = [{ label: l('出具单位', 'Issued by'), value: party(input.centre) }];
  const s = input.section;
  if (s) {
    rows.push({ label: l('项目', 'Project'), value: s.projectName ? `${s.projectName}（${s.projectCode}）` : s.projectCode });
    rows.push({ label: l('标段', 'Section'), value: `${s.sectionName}（${s.sectionCode}）` });
    if (s.tenderee) rows.push({ label: l('招标人', 'Tenderee'), value: party(s.tenderee) });
  }
  w.heading(l('基本信息', 'General'));
  w.keyValues(rows);
}

function guaranteeRows(g: GuaranteeIdentity, issuer: IssuerIdentity): { label: Label; value: string }[] {
  const rows = [
    { label: l('保函编号', 'Guarantee number'), value: g.number },
    { label: l('保函类型', 'Kind'), value: securityKinds[g.kind] },
    { label: l('出函机构', 'Issuer'), value: [issuer.name, issuer.bankCode ? `行号 CNAPS ${issuer.bankCode}` : undefined].filter(Boolean).join('  ') },
    { label: l('申请人（投标人）', 'Applicant (bidder)'), value: party(g.applicant) },
    { label: l('受益人（招标人）', 'Beneficiary (tenderee)'), value: party(g.beneficiary) },
    { label: l('项目 / 标段编号', 'Project / section code'), value: `${g.projectCode} / ${g.sectionCode}` },
    { label: l('担保金额', 'Amount'), value: `${displayAmount(g.amountFen)}（${toChineseCapital(g.amountFen)}）` },
    { label: l('有效期', 'Validity'), value: `${displayTime(g.validFrom)} 至 to ${displayTime(g.validTo)}` },
    { label: l('出具时间', 'Issued at'), value: displayTime(g.issuedAt) },
    { label: l('状态', 'Status'), value: g.status },
  ];
  if (g.documentSha256) rows.push({ label: l('保函文件摘要', 'Document SHA-256'), value: g.documentSha256 });
  if (issuer.certificateFingerprint) rows.push({ label: l('出函证书指纹', 'Issuer certificate SHA-256'), value: issuer.certificateFingerprint });
  return rows;
}

const refundReasons: Record<string, string> = {
  withdrawal: '投标截止前撤回 Withdrawal before the deadline',
  contract_signed: '合同签订后退还 Refund after contract signing',
  not_awarded: '未中标退还 Not awarded',
  termination: '招标终止 Tender terminated',
  excess: '超额部分退还 Excess over the required amount',
  invalid_deposit: '不符合要求的来款原路退回 Non-conforming payment returned to source',
  other: '其他 Other',
};

const claimGrounds: Record<string, string> = {
  withdrawal_after_deadline: '投标截止后撤销投标文件 Withdrawal after the deadline',
  refused_to_sign: '中标人无正当理由不与招标人订立合同 Winner refused to sign',
  conditions_at_signing: '签订合同时提出附加条件 Conditions added at signing',
  no_performance_security: '不按要求提交履约保证金 No performance security',
  false_documents: '提供虚假材料 False documents',
};

const rosterStatus: Record<string, string> = {
  secured: '已担保 Secured',
  insufficient: '不足 Insufficient',
  invalid: '无效 Invalid',
  missing: '未提交 Missing',
};

const rosterSecurity: Record<string, string> = { cash: '现金保证金 Cash', guarantee: '保函 Guarantee', exemption: '信用免缴 Exempt by credit', none: '— None' };

const depositStatus: Record<string, string> = {
  received: '已到账 Received',
  valid: '有效 Valid',
  invalid: '无效，将原路退回 Invalid, returned to source',
  suspense: '待处理 Suspense',
};

const exceptionKinds: Record<string, string> = {
  missing_in_ledger: '账务缺失 Missing in ledger',
  missing_in_bank: '银行缺失 Missing in bank',
  amount_mismatch: '金额不符 Amount mismatch',
  duplicate: '重复 Duplicate',
};

/** The title block and general section every voucher has, then the sections of its kind. */
export function layoutVoucherBody(w: PageWriter, input: VoucherInput): void {
  const qr = new URL(input.verifyUrl);
  qr.searchParams.set('voucher', input.voucherId);
  qr.searchParams.set('sha256', input.recordSha256);
  w.titleBlock(
    titleOf(input.kind),
    [
      { label: l('凭证编号', 'Voucher ID'), value: input.voucherId },
      { label: l('出具时间', 'Issued at'), value: displayTime(input.issuedAt) },
      { label: l('记录摘要', 'Record SHA-256'), value: input.recordSha256 },
    ],
    qr.toString(),
  );
  commonBlock(w, input);
  layoutKindSections(w, input);
}

function layoutKindSections<K extends VoucherKind>(w: PageWriter, input: VoucherInputOf<K>): void {
  // The kind comes from the database too, where only a CHECK constraint stands behind the type.
  if (!Object.hasOwn(kindLayouts, input.kind)) throw new Error(`assertion: unknown voucher kind ${String(input.kind)}`);
  kindLayouts[input.kind](w, input.data);
}

type KindLayout<K extends VoucherKind> = (w: PageWriter, data: VoucherDataByKind[K]) => void;

const kindLayouts: { [K in VoucherKind]: KindLayout<K> } = {
  deposit_receipt: layoutDepositReceipt,
  refund_voucher: layoutRefundVoucher,
  verification_report: layoutVerificationReport,
  opening_roster: layoutOpeningRoster,
  claim_notice: layoutClaimNotice,
  reconciliation_report: layoutReconciliationReport,
  deposit_reversal: layoutDepositReversal,
  refund_return: layoutRefundReturn,
  statistics: layoutStatistics,
};

function layoutDepositReceipt(w: PageWriter, d: DepositReceiptData): void {
  w.heading(l('收款信息', 'Deposit'));
  w.keyValues([
    { label: l('保证金编号', 'Deposit ID'), value: d.depositId },
    { label: l('投标人', 'Bidder'), value: party(d.bidder) },
    { label: l('金额', 'Amount'), value: `${displayAmount(d.amountFen)}（${toChineseCapital(d.amountFen)}）`, bold: true },
    { label: l('付款账户', 'Paid from'), value: account(d.payer) },
    { label: l('收款虚拟子账号', 'Virtual sub-account'), value: d.virtualAccount },
    { label: l('银行记账时间', 'Booked by bank at'), value: displayTime(d.bookedAt) },
    { label: l('起息日', 'Value date'), value: displayTime(d.valueDate) },
    { label: l('银行流水号', 'Bank entry reference'), value: d.bankEntryRef },
    { label: l('附言', 'Remittance'), value: d.remittance ?? '—' },
    { label: l('状态', 'Status'), value: depositStatus[d.status] ?? d.status },
    { label: l('未通过规则', 'Failed rules'), value: d.failedRules.length ? d.failedRules.join(', ') : '—' },
  ]);
  w.paragraph('本收据证明上述款项已由银行记入投标保证金专户；保证金是否有效以核验规则为准，不符合要求的来款将原路退回。 This receipt attests that the bank booked the amount above into the deposit trust account; whether it secures the bid follows the rules shown, and a non-conforming payment is returned to its source.', { size: 8, color: 'grey' });
}

function layoutRefundVoucher(w: PageWriter, d: RefundVoucherData): void {
  if (d.principalFen + d.interestFen + d.lateFeeFen !== d.totalFen) {
    throw new Error('assertion: refund total must equal principal + interest + late fee');
  }
  if (d.principalFen < 0n || d.interestFen < 0n || d.lateFeeFen < 0n) throw new Error('assertion: refund components must not be negative');
  w.heading(l('退款信息', 'Refund'));
  w.keyValues([
    { label: l('退款编号', 'Refund ID'), value: d.refundId },
    { label: l('保证金编号', 'Deposit ID'), value: d.depositId },
    { label: l('投标人', 'Bidder'), value: party(d.bidder) },
    { label: l('退款原因', 'Reason'), value: `${refundReasons[d.reason] ?? d.reason}${d.rules.length ? `（${d.rules.join(', ')}）` : ''}` },
    { label: l('收款账户（原路）', 'Paid to (source account)'), value: account(d.payee) },
    { label: l('应退日期', 'Due by'), value: displayTime(d.dueBy) },
    { label: l('完成时间', 'Settled at'), value: d.settledAt ? displayTime(d.settledAt) : '—' },
    { label: l('银行交易参考号', 'Bank reference'), value: d.bankReference ?? '—' },
  ]);
  w.heading(l('金额明细', 'Amounts'));
  const columns: Column[] = [
    { label: l('项目', 'Item'), share: 0.24 },
    { label: l('计算依据', 'Basis'), share: 0.46 },
    { label: l('金额', 'Amount'), share: 0.3, align: 'right', shrinkToFit: true },
  ];
  w.table(columns, [
    ['本金 Principal', '已到账保证金 Deposit received', displayAmount(d.principalFen)],
    [
      '利息 Interest',
      `${d.interest.valueDateFrom} 至 to ${d.interest.valueDateTo}，${d.interest.days} 天 days，年利率 annual ${d.interest.annualRatePercent}%，按 360 天/年 on a 360-day year`,
      displayAmount(d.interestFen),
    ],
    ['逾期补偿 Late fee', d.lateFee ? `逾期 ${d.lateFee.days} 天 days late，年利率 annual ${d.lateFee.annualRatePercent}%` : '—', displayAmount(d.lateFeeFen)],
    ['合计 Total', '', displayAmount(d.totalFen)],
  ]);
  w.keyValues([{ label: l('合计（大写）', 'Total in words'), value: toChineseCapital(d.totalFen), bold: true }]);
}

function layoutVerificationReport(w: PageWriter, d: VerificationReportData): void {
  w.heading(l('验真结论', 'Conclusion'));
  w.keyValues([
    { label: l('结论', 'Result'), value: d.authentic ? '真实有效 Authentic and in force' : '未通过验真 Not verified', bold: true },
    { label: l('验真时间', 'Verified at'), value: displayTime(d.verifiedAt) },
  ]);
  w.heading(l('保函信息', 'Guarantee'));
  w.keyValues(guaranteeRows(d.guarantee, d.issuer));
  w.heading(l('核验项目', 'Checks'));
  w.table(
    [
      { label: l('规则', 'Rule'), share: 0.12 },
      { label: l('结果', 'Result'), share: 0.16 },
      { label: l('说明', 'Detail'), share: 0.72 },
    ],
    d.checks.map((c) => [c.rule, yesNo(c.ok), c.detail]),
  );
}

function layoutOpeningRoster(w: PageWriter, d: OpeningRosterData): void {
  const secured = d.entries.filter((e) => e.status === 'secured').length;
  const exempt = d.entries.filter((e) => e.status === 'secured' && e.security === 'exemption').length;
  w.heading(l('开标信息', 'Opening'));
  w.keyValues([
    { label: l('投标截止时间', 'Bid deadline'), value: displayTime(d.bidDeadline) },
    { label: l('开标时间', 'Opened at'), value: displayTime(d.openedAt) },
    { label: l('应缴保证金', 'Required security'), value: `${displayAmount(d.requiredDepositFen)}（${toChineseCapital(d.requiredDepositFen)}）` },
    { label: l('投标人数 / 已担保', 'Bidders / secured'), value: `${d.entries.length} / ${secured}` },
    ...(exempt > 0 ? [{ label: l('其中信用免缴', 'Of which exempt by credit'), value: String(exempt) }] : []),
  ]);
  w.heading(l('核验结果', 'Roster'));
  w.table(
    [
      { label: l('序号', 'No.'), share: 0.06 },
      { label: l('投标人', 'Bidder'), share: 0.28 },
      { label: l('担保方式', 'Security'), share: 0.12 },
      { label: l('金额', 'Amount'), share: 0.22, align: 'right', shrinkToFit: true },
      { label: l('状态', 'Status'), share: 0.12 },
      { label: l('凭据 / 规则', 'Reference / rules'), share: 0.2 },
    ],
    d.entries.map((e, i) => [
      String(i + 1),
      party(e.bidder),
      rosterSecurity[e.security] ?? e.security,
      e.amountFen === undefined ? '—' : displayAmount(e.amountFen),
      rosterStatus[e.status] ?? e.status,
      [e.exemption ? exemptionReference(e.exemption) : undefined, e.reference, e.rules.length ? e.rules.join(', ') : undefined].filter(Boolean).join('\n') || '—',
    ]),
  );
  w.paragraph('现金保证金与有效电子保函具有同等效力（R8）。 A valid guarantee has the same effect as cash (R8).', { size: 8, color: 'grey' });
  if (exempt > 0) {
    w.paragraph('信用免缴：投标截止时有效的信用等级免交全部投标保证金（R4），所缴款项全额原路退回。 Exempt by credit: the grade valid at the bid deadline waives the whole security (R4); anything paid is returned.', { size: 8, color: 'grey' });
  }
}

/** The finding behind an exemption, as a reader can look it up with its source. */
function exemptionReference(x: { grade: string; source: string; validFrom: string; validTo: string }): string {
  return `信用等级 Grade ${x.grade}\n${x.source}\n${x.validFrom} – ${x.validTo}`;
}

function layoutClaimNotice(w: PageWriter, d: ClaimNoticeData): void {
  w.heading(l('索赔事项', 'Claim'));
  w.keyValues([
    { label: l('索赔编号', 'Claim ID'), value: d.claimId },
    { label: l('致（出函机构）', 'To (issuer)'), value: d.issuer.name },
    { label: l('索赔金额', 'Amount claimed'), value: `${displayAmount(d.claimAmountFen)}（${toChineseCapital(d.claimAmountFen)}）`, bold: true },
    { label: l('索赔事由', 'Ground (R12)'), value: claimGrounds[d.ground] ?? d.ground },
    { label: l('具体说明', 'Statement'), value: d.reasonText },
    { label: l('决定人', 'Decided by'), value: d.decidedBy },
    { label: l('决定时间', 'Decided at'), value: displayTime(d.decidedAt) },
    { label: l('收款账户', 'Pay to'), value: d.paymentAccount ? account(d.paymentAccount) : '—' },
  ]);
  w.heading(l('所涉保函', 'Guarantee concerned'));
  w.keyValues(guaranteeRows(d.guarantee, d.issuer));
  w.paragraph('请贵方按保函约定的期限和方式履行付款义务。 Please pay under the terms of the guarantee within the period it sets.', { size: 8, color: 'grey' });
}

function layoutReconciliationReport(w: PageWriter, d: ReconciliationReportData): void {
  const difference = d.balances.closingBankFen - d.balances.closingLedgerFen;
  w.heading(l('对账概要', 'Summary'));
  w.keyValues([
    { label: l('对账编号', 'Reconciliation ID'), value: d.reconciliationId },
    { label: l('开户银行', 'Bank'), value: `${d.bank.name}  行号 CNAPS ${d.bank.bankCode}` },
    { label: l('保证金专户', 'Trust account'), value: `${d.trustAccount.name}  账号 A/C ${d.trustAccount.number}` },
    { label: l('对账日', 'Statement date'), value: d.statementDate },
    { label: l('已匹配笔数', 'Matched entries'), value: String(d.matched.count) },
    { label: l('例外笔数', 'Exceptions'), value: String(d.exceptions.length) },
    { label: l('结论', 'Result'), value: difference === 0n && d.exceptions.length === 0 ? '账实相符 Balanced' : '存在差异 Differences found', bold: true },
  ]);
  w.heading(l('余额', 'Balances'));
  const amountColumns: Column[] = [
    { label: l('项目', 'Item'), share: 0.6 },
    { label: l('金额', 'Amount'), share: 0.4, align: 'right', shrinkToFit: true },
  ];
  w.table(amountColumns, [
    ['期初余额 Opening balance', displayAmount(d.balances.openingFen)],
    ['匹配贷方合计 Matched credits', displayAmount(d.matched.creditsFen)],
    ['匹配借方合计 Matched debits', displayAmount(d.matched.debitsFen)],
    ['银行期末余额 Closing balance (bank)', displayAmount(d.balances.closingBankFen)],
    ['账务期末余额 Closing balance (ledger)', displayAmount(d.balances.closingLedgerFen)],
    ['差额 Difference (bank − ledger)', displayAmount(difference)],
  ]);
  w.heading(l('例外事项', 'Exceptions'));
  if (d.exceptions.length === 0) w.paragraph('无 None');
  else
    w.table(
      [
        { label: l('类型', 'Kind'), share: 0.2 },
        { label: l('流水号', 'Entry ref'), share: 0.22 },
        { label: l('金额', 'Amount'), share: 0.23, align: 'right', shrinkToFit: true },
        { label: l('说明', 'Detail'), share: 0.35 },
      ],
      d.exceptions.map((e) => [exceptionKinds[e.kind] ?? e.kind, e.entryRef, displayAmount(e.amountFen), e.detail]),
    );
}

const reversedStatus: Record<DepositReversalData['statusBefore'], string> = {
  received: '已到账，待补足 Received, short of the requirement',
  valid: '有效 Valid',
  invalid: '无效，待原路退回 Invalid, to be returned to source',
  held: '待交易中心认定 Held for the centre',
};

function layoutDepositReversal(w: PageWriter, d: DepositReversalData): void {
  if (d.amountFen <= 0n) throw new Error('assertion: a reversed amount is positive');
  w.heading(l('冲正信息', 'Reversal'));
  w.keyValues([
    { label: l('保证金编号', 'Deposit ID'), value: d.depositId },
    { label: l('投标人', 'Bidder'), value: party(d.bidder) },
    { label: l('冲正金额', 'Amount reversed'), value: `${displayAmount(d.amountFen)}（${toChineseCapital(d.amountFen)}）`, bold: true },
    { label: l('退回付款账户', 'Returned to the payer'), value: account(d.payer) },
    { label: l('收款虚拟子账号', 'Virtual sub-account'), value: d.virtualAccount },
    { label: l('冲正前状态', 'Status before'), value: reversedStatus[d.statusBefore] ?? d.statusBefore },
    { label: l('开标后冲正', 'After the opening'), value: d.afterOpening ? '是，开标时已计入 Yes, counted at the opening' : '否 No' },
    { label: l('不再支付的退款', 'Refunds no longer paid'), value: d.cancelledRefundIds.length ? d.cancelledRefundIds.join(', ') : '—' },
  ]);
  w.heading(l('原收款与冲正', 'Original credit and reversal'));
  w.keyValues([
    { label: l('原收据凭证', 'Original receipt voucher'), value: d.receiptVoucherId ?? '—（未出具收据 No receipt was issued）' },
    { label: l('原银行流水号', 'Original bank entry'), value: d.originalEntryRef },
    { label: l('原记账时间', 'Originally booked at'), value: displayTime(d.originalBookedAt) },
    { label: l('冲正流水号', 'Reversal bank entry'), value: d.reversalEntryRef },
    { label: l('冲正记账时间', 'Reversed at'), value: displayTime(d.reversedAt) },
  ]);
  w.paragraph(
    '银行已将上述款项冲正并退回付款账户，原收据所载保证金不再为投标提供担保；投标截止前投标人可重新缴纳。 The bank reversed the credit above and returned the money to the account that paid it: the deposit on the original receipt no longer secures the bid. Before the bid deadline the bidder may pay again.',
    { size: 8, color: 'grey' },
  );
}

const returnReasons: Record<string, string> = {
  AC01: '账号错误 Incorrect account number',
  AC04: '账户已销户 Closed account',
  AC06: '账户已冻结 Blocked account',
  AG01: '交易不允许 Transaction forbidden',
  BE01: '户名与账号不符 Name does not match the account',
  MS03: '未说明原因 Reason not specified',
  NARR: '见说明 See the narrative',
};

function layoutRefundReturn(w: PageWriter, d: RefundReturnData): void {
  const amountFen = parseAmount(d.amount);
  const reason = returnReasons[d.returnReasonCode];
  w.heading(l('退汇信息', 'Return'));
  w.keyValues([
    { label: l('退款编号', 'Refund ID'), value: d.refundId },
    { label: l('保证金编号', 'Deposit ID'), value: d.depositId },
    { label: l('标段编号', 'Section ID'), value: d.sectionId ?? '—' },
    { label: l('投标人编号', 'Bidder ID'), value: d.bidderId ?? '—' },
    { label: l('原收款账户', 'Paid to'), value: `${d.creditorName}  账号 A/C ${d.creditorAccount}` },
    { label: l('退汇金额', 'Amount returned'), value: `${displayAmount(amountFen)}（${toChineseCapital(amountFen)}）`, bold: true },
    { label: l('退汇原因', 'Return reason'), value: `${d.returnReasonCode}${reason ? ` ${reason}` : ''}${d.returnReasonText ? `：${d.returnReasonText}` : ''}` },
    { label: l('原端到端标识', 'Original end-to-end ID'), value: d.originalEndToEndId },
    { label: l('退汇时间', 'Returned at'), value: displayTime(d.returnedAt) },
  ]);
  w.paragraph(
    '收款行已将上述退款退回保证金专户，款项仍应退还投标人；核实收款账户后另行办理，不向其他账户支付，除非有书面决定（R17）。 The payee\'s bank sent the refund above back to the trust account; the money is still owed to the bidder and is paid again once the account is confirmed, never to another account without a recorded decision (R17).',
    { size: 8, color: 'grey' },
  );
}

// ---- statistics ----------------------------------------------------------------------------

/** A group's name is cut to this many characters in the figure tables (the record keeps it
 *  whole, with its id): a year by tenderee has thousands of rows in each of six tables, and a
 *  name wrapping over many lines would multiply the pages. */
export const statisticsGroupNameCharsMax = 30;

const groupings: Record<NonNullable<StatisticsReportData['groupBy']>, string> = {
  month: '按月 By month',
  tenderee: '按招标人 By tenderee',
  bank: '按保证金银行 By deposit bank',
  issuer: '按出函机构 By issuer',
  regime: '按适用法规 By regime',
};

const regimes: Record<string, string> = {
  tendering_law: '招标投标法 Tendering law',
  government_procurement: '政府采购 Government procurement',
};

/** A share as written by the statistics ("0.6667") as a percentage ("66.67%"), in integers. */
export function displayShare(share: string | null): string {
  if (share === null) return '—';
  const m = /^(\d+)\.(\d{1,4})$/.exec(share);
  if (!m) throw new Error(`assertion: a share is a decimal, not ${JSON.stringify(share)}`);
  const basisPoints = BigInt(m[1]) * 10000n + BigInt(m[2].padEnd(4, '0'));
  return `${basisPoints / 100n}.${(basisPoints % 100n).toString().padStart(2, '0')}%`;
}

const money = (amount: string): string => displayAmount(parseAmount(amount, { allowZero: true }));
const count = (n: number): string => String(n);
const days = (d: string | null): string => d ?? '—';

/** Groups named by records (tenderees, banks, issuers) are listed with their ids first and
 *  numbered, and the figure tables name each by its number and name: two tenderees may share a
 *  name, and the number ties a row to one id. */
const groupsByRecord = new Set<StatisticsReportData['groupBy']>(['tenderee', 'bank', 'issuer']);

function groupLabel(groupBy: StatisticsReportData['groupBy'], g: { key: string | null; name: string | null }, index: number): string {
  if (g.key === null) return '未归属 Unassigned';
  if (groupBy === 'regime') return regimes[g.key] ?? g.key;
  if (!groupsByRecord.has(groupBy)) return g.key;
  const chars = [...(g.name ?? g.key)];
  const name = chars.length > statisticsGroupNameCharsMax ? `${chars.slice(0, statisticsGroupNameCharsMax - 1).join('')}…` : chars.join('');
  return `${index + 1}. ${name}`;
}

/** A heading, a table's header and its first rows: a table starts on the page of its heading. */
const tableStartHeight = 130;

type FigureTable = { heading: Label; groupShare: number; columns: (Column & { cell: (f: StatisticsFigures) => string })[] };

const amountColumn = (label: Label, share: number, cell: (f: StatisticsFigures) => string) => ({ label, share, align: 'right' as const, shrinkToFit: true, cell });
const countColumn = (label: Label, share: number, cell: (f: StatisticsFigures) => string) => ({ label, share, align: 'right' as const, cell });

const statisticsTables: FigureTable[] = [
  {
    heading: l('标段与有效投标担保', 'Sections and secured bids'),
    groupShare: 0.2,
    columns: [
      countColumn(l('发布标段', 'Sections created'), 0.09, (f) => count(f.sections.created)),
      countColumn(l('开标', 'Opened'), 0.09, (f) => count(f.sections.opened)),
      countColumn(l('终止', 'Terminated'), 0.1, (f) => count(f.sections.terminated)),
      countColumn(l('有效担保', 'Bids secured'), 0.1, (f) => count(f.bids.secured)),
      countColumn(l('现金', 'By cash'), 0.08, (f) => count(f.bids.cash.count)),
      countColumn(l('保函', 'By guarantee'), 0.08, (f) => count(f.bids.guarantee.count)),
      countColumn(l('保函替代率 按笔数', 'Guarantee share by count'), 0.13, (f) => displayShare(f.bids.guaranteeShare.byCount)),
      countColumn(l('保函替代率 按金额', 'Guarantee share by amount'), 0.13, (f) => displayShare(f.bids.guaranteeShare.byAmount)),
    ],
  },
  {
    heading: l('投标担保方式与金额', 'Bids secured by cash and by guarantee'),
    groupShare: 0.24,
    columns: [
      countColumn(l('现金笔数', 'Cash, count'), 0.1, (f) => count(f.bids.cash.count)),
      amountColumn(l('现金保证金金额', 'Cash, amount'), 0.28, (f) => money(f.bids.cash.amount)),
      countColumn(l('保函笔数', 'Guarantee, count'), 0.1, (f) => count(f.bids.guarantee.count)),
      amountColumn(l('保函担保金额', 'Guarantee, amount'), 0.28, (f) => money(f.bids.guarantee.amount)),
    ],
  },
  {
    heading: l('电子保函（按出函机构类型）', 'Guarantees by issuer kind'),
    groupShare: 0.19,
    columns: [
      countColumn(l('银行保函', 'Bank'), 0.09, (f) => count(f.guarantees.bank.count)),
      amountColumn(l('金额', 'Amount'), 0.15, (f) => money(f.guarantees.bank.amount)),
      countColumn(l('保证保险', 'Insurance'), 0.09, (f) => count(f.guarantees.insurance.count)),
      amountColumn(l('金额', 'Amount'), 0.15, (f) => money(f.guarantees.insurance.amount)),
      countColumn(l('担保公司', 'Guarantor'), 0.09, (f) => count(f.guarantees.guarantor.count)),
      amountColumn(l('金额', 'Amount'), 0.15, (f) => money(f.guarantees.guarantor.amount)),
      countColumn(l('被拒', 'Rejected'), 0.09, (f) => count(f.guarantees.rejected)),
    ],
  },
  {
    heading: l('保证金收取与退还', 'Deposits received and refunded'),
    groupShare: 0.2,
    columns: [
      countColumn(l('收到笔数', 'Received'), 0.1, (f) => count(f.deposits.received.count)),
      amountColumn(l('收到金额', 'Received, amount'), 0.17, (f) => money(f.deposits.received.amount)),
      countColumn(l('退还笔数', 'Refunds paid'), 0.1, (f) => count(f.refunds.paid.count)),
      amountColumn(l('退还本金', 'Principal refunded'), 0.17, (f) => money(f.refunds.paid.amount)),
      amountColumn(l('支付利息', 'Interest paid'), 0.13, (f) => money(f.refunds.interestPaid)),
      amountColumn(l('逾期补偿', 'Late fees paid'), 0.13, (f) => money(f.refunds.lateFeesPaid)),
    ],
  },
  {
    heading: l('退还时效', 'Refunds on time'),
    groupShare: 0.24,
    columns: [
      countColumn(l('按期', 'On time'), 0.1, (f) => count(f.refunds.onTime)),
      countColumn(l('逾期', 'Late'), 0.1, (f) => count(f.refunds.late)),
      countColumn(l('R11 按期', 'R11 on time'), 0.12, (f) => count(f.refunds.r11.onTime)),
      countColumn(l('R11 逾期', 'R11 late'), 0.12, (f) => count(f.refunds.r11.late)),
      countColumn(l('占用天数均值', 'Days held, mean'), 0.16, (f) => days(f.refunds.daysHeld.mean)),
      countColumn(l('占用天数 P95', 'Days held, 95th pct.'), 0.16, (f) => days(f.refunds.daysHeld.p95)),
    ],
  },
  {
    heading: l('不予退还与保函索赔', 'Forfeitures and claims paid'),
    groupShare: 0.24,
    columns: [
      countColumn(l('不予退还笔数', 'Forfeitures'), 0.12, (f) => count(f.forfeitures.count)),
      amountColumn(l('不予退还金额', 'Forfeited amount'), 0.26, (f) => money(f.forfeitures.amount)),
      countColumn(l('索赔笔数', 'Claims paid'), 0.12, (f) => count(f.claimsPaid.count)),
      amountColumn(l('索赔金额', 'Claimed amount'), 0.26, (f) => money(f.claimsPaid.amount)),
    ],
  },
];

function layoutStatistics(w: PageWriter, d: StatisticsReportData): void {
  if (d.groupBy === null && d.groups.length > 0) throw new Error('assertion: ungrouped statistics have no groups');
  const t = d.totals;
  w.heading(l('统计范围', 'Scope'));
  w.keyValues([
    { label: l('统计期间', 'Period'), value: `${d.from} 至 to ${d.to}（含首尾 both included）` },
    { label: l('分组方式', 'Grouped'), value: d.groupBy ? groupings[d.groupBy] : '不分组 Not grouped' },
    { label: l('分组数', 'Groups'), value: d.groupBy ? count(d.groups.length) : '—' },
    { label: l('币种', 'Currency'), value: d.currency === 'CNY' ? '人民币 CNY' : d.currency },
  ]);
  w.heading(l('主要指标', 'Key figures'));
  w.keyValues([
    { label: l('有效投标担保', 'Bids secured'), value: `${t.bids.secured}（现金 cash ${t.bids.cash.count}，保函 guarantee ${t.bids.guarantee.count}）` },
    { label: l('保函替代率', 'Guarantee share'), value: `${displayShare(t.bids.guaranteeShare.byCount)}（按笔数 by count）  ${displayShare(t.bids.guaranteeShare.byAmount)}（按金额 by amount）`, bold: true },
    { label: l('收到保证金', 'Deposits received'), value: `${money(t.deposits.received.amount)}（${t.deposits.received.count} 笔 deposits）` },
    { label: l('按期退还（R11）', 'R11 refunds on time / late'), value: `${t.refunds.r11.onTime} / ${t.refunds.r11.late}` },
  ]);
  if (groupsByRecord.has(d.groupBy) && d.groups.length > 0) {
    w.ensureSpace(tableStartHeight);
    w.heading(l('分组', 'Groups'));
    w.table(
      [
        { label: l('序号', 'No.'), share: 0.08 },
        { label: l('名称', 'Name'), share: 0.57 },
        { label: l('编号', 'ID'), share: 0.35 },
      ],
      d.groups.map((g, i) => (g.key === null ? ['—', '未归属 Unassigned', '—'] : [String(i + 1), g.name ?? '—', g.key])),
    );
  }
  const groupColumn = (share: number): Column => ({ label: l('分组', 'Group'), share });
  for (const table of statisticsTables) {
    w.ensureSpace(tableStartHeight);
    w.heading(table.heading);
    const rows = d.groups.map((g, i) => [groupLabel(d.groupBy, g, i), ...table.columns.map((c) => c.cell(g))]);
    rows.push(['合计 Total', ...table.columns.map((c) => c.cell(t))]);
    w.table([groupColumn(table.groupShare), ...table.columns], rows);
  }
  w.paragraph(
    '保函替代率为以电子保函担保的有效投标占全部有效投标的比例（按笔数及按金额），有效投标以开标时确定的核验表为准（R8）；按期指退款起息日不晚于应退日期，R11 为合同签订及中标通知后的退还。合计单独统计，不由各组相加（均值与分位数不可相加，现金投标无出函机构）。金额单位：人民币元。 The guarantee share is the part of the bids secured at opening (R8) that guarantees secured, by count and by amount; a refund is on time when its value date is no later than its due date, and R11 counts the refunds after the award and the contract. Totals are counted on their own, not added up from the groups (a mean or percentile does not add, and a cash bid has no issuer). Amounts in yuan (CNY).',
    { size: 8, color: 'grey' },
  );
}
