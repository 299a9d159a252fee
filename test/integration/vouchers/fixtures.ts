// Sample voucher inputs for every kind, plain and at the limits (the longest names we accept,
// the largest amount the money module allows, a roster that spans pages).
import { createHash } from 'node:crypto';
import type { VoucherInput, VoucherKind } from '../../../src/vouchers/input';
import { statisticsReport } from './statisticsFixture';

export const amountFenMax = 99999999999999999n; // 999,999,999,999,999.99

const longCompany =
  '中铁建设集团华东第七工程局有限公司暨长三角一体化示范区基础设施投资建设发展联合体牵头单位（上海）国际工程咨询管理股份有限公司第二分公司 China Railway Construction East China No.7 Engineering Bureau Co., Ltd. Consortium Lead';
const longSection = '苏州市吴江区汾湖高新技术产业开发区元荡生态岸线贯通工程（二期）及配套市政道路、桥梁、综合管廊与智慧照明系统施工总承包第三标段';

export function sampleVoucher(kind: VoucherKind, opts: { extreme?: boolean; seq?: number } = {}): VoucherInput {
  const x = opts.extreme ?? false;
  const seq = opts.seq ?? 1;
  const amount = (normal: bigint) => (x ? amountFenMax : normal);
  const name = (normal: string) => (x ? `${longCompany}${normal}` : normal);
  const common = {
    voucherId: `vch_01JTEST${kind.replace(/_/g, '').toUpperCase().slice(0, 10)}${String(seq).padStart(4, '0')}`,
    issuedAt: '2025-03-14T06:30:00.000Z',
    centre: { name: '苏州市公共资源交易中心 Suzhou Public Resources Trading Center', uscc: '12320500MB1234567X' },
    section: {
      projectCode: 'SZ-GC-2025-0117',
      projectName: x ? `${longSection}项目` : '吴江区道路改造工程',
      sectionCode: 'SZ-GC-2025-0117-03',
      sectionName: x ? longSection : '第三标段',
      tenderee: { name: name('苏州市吴江区交通运输局'), uscc: '11320584014123456P' },
    },
    verifyUrl: 'https://bidbond.example.cn/v1/vouchers/verify',
    recordSha256: createHash('sha256').update(`${kind}-${seq}`).digest('hex'),
  };
  const bidder = { name: name('江苏恒通建设工程有限公司'), uscc: '91320500MA1X2Y3Z4Q' };
  const guarantee = {
    number: x ? 'BH-2025-ICBC-SZ-000000000000000000000000000000000000000000000000000000001' : 'BH-2025-ICBC-SZ-0001',
    kind: 'bank' as const,
    amountFen: amount(80000000n),
    validFrom: '2025-03-01',
    validTo: '2025-07-30',
    issuedAt: '2025-03-10T02:00:00.000Z',
    applicant: bidder,
    beneficiary: common.section.tenderee,
    projectCode: common.section.projectCode,
    sectionCode: common.section.sectionCode,
    status: 'issued',
    documentSha256: 'a3f1c2e4b5d6978812345678901234567890abcdefabcdefabcdefabcdef0123',
  };
  const issuer = { name: name('中国工商银行股份有限公司苏州吴江支行'), kind: 'bank' as const, bankCode: '102305000123', certificateFingerprint: 'b'.repeat(64) };
  const account = { name: bidder.name, number: '3202 0211 0900 1234 5678', bankCode: '102305000123', bankName: name('中国工商银行苏州吴江支行') };

  switch (kind) {
    case 'deposit_receipt':
      return {
        ...common,
        kind,
        data: {
          depositId: 'dep_01JTEST0001',
          bidder,
          amountFen: amount(80000000n),
          bookedAt: '2025-03-12T01:15:20.000Z',
          valueDate: '2025-03-12',
          virtualAccount: '9558800012345678901',
          payer: account,
          bankEntryRef: 'ICBC20250312000123',
          remittance: x ? `投标保证金 ${longSection}` : '投标保证金 SZ-GC-2025-0117-03',
          status: 'valid',
          failedRules: [],
        },
      };
    case 'refund_voucher': {
      const principalFen = x ? amountFenMax - 200n : 80000000n;
      const interestFen = x ? 100n : 77000n;
      const lateFeeFen = x ? 100n : 1234n;
      return {
        ...common,
        kind,
        data: {
          refundId: 'rfd_01JTEST0001',
          depositId: 'dep_01JTEST0001',
          bidder,
          reason: 'contract_signed',
          rules: ['R11', 'R13'],
          payee: account,
          principalFen,
          interestFen,
          lateFeeFen,
          totalFen: principalFen + interestFen + lateFeeFen,
          interest: { valueDateFrom: '2025-03-12', valueDateTo: '2025-05-20', days: 69, annualRatePercent: '0.35' },
          lateFee: { days: 2, annualRatePercent: '4.14' },
          dueBy: '2025-05-21',
          settledAt: '2025-05-20T03:00:00.000Z',
          bankReference: 'ICBC-RF-20250520-000045',
        },
      };
    }
    case 'verification_report':
      return {
        ...common,
        kind,
        data: {
          guarantee,
          issuer,
          authentic: true,
          verifiedAt: '2025-03-14T06:29:58.000Z',
          checks: [
            { rule: 'R2', ok: true, detail: '有效期覆盖投标截止时间至投标有效期届满 Valid from before the deadline to deadline + 90 days' },
            { rule: 'R3', ok: true, detail: '出具时间早于投标截止时间 Issued before the bid deadline' },
            { rule: 'R4', ok: true, detail: `担保金额不低于应缴保证金 Amount ≥ required deposit${x ? ` ${longSection}` : ''}` },
            { rule: 'R6', ok: true, detail: '出函银行为投标人基本账户开户行 Issued by the basic-account bank' },
            { rule: 'R7', ok: !x, detail: '受益人、项目与标段编号一致 Beneficiary, project and section match' },
          ],
        },
      };
    case 'opening_roster':
      return {
        ...common,
        kind,
        data: {
          openedAt: '2025-03-20T01:30:00.000Z',
          bidDeadline: '2025-03-20T01:30:00.000Z',
          requiredDepositFen: amount(80000000n),
          entries: Array.from({ length: x ? 60 : 5 }, (_, i) => ({
            bidder: { name: i % 3 === 0 ? name(`投标单位${i + 1}建设有限公司`) : `投标单位${i + 1}建设有限公司`, uscc: '91320500MA1X2Y3Z4Q' },
            security: i % 2 === 0 ? ('cash' as const) : ('guarantee' as const),
            status: i % 7 === 6 ? ('insufficient' as const) : ('secured' as const),
            amountFen: amount(80000000n + BigInt(i)),
            reference: i % 2 === 0 ? `dep_01JTEST${String(i).padStart(4, '0')}` : `BH-2025-${String(i).padStart(6, '0')}`,
            rules: i % 7 === 6 ? ['R4'] : [],
          })),
        },
      };
    case 'claim_notice':
      return {
        ...common,
        kind,
        data: {
          claimId: 'clm_01JTEST0001',
          guarantee,
          issuer,
          claimAmountFen: amount(80000000n),
          ground: 'refused_to_sign',
          reasonText: x ? `中标人在中标通知书发出后无正当理由拒绝签订合同。${longSection}${longCompany}` : '中标人在中标通知书发出后无正当理由拒绝签订合同。',
          decidedBy: '张三（交易中心业务科）',
          decidedAt: '2025-04-10T02:00:00.000Z',
          paymentAccount: { name: '苏州市吴江区交通运输局', number: '1102 0201 0900 0000 001', bankCode: '102305000123' },
        },
      };
    case 'reconciliation_report':
      return {
        ...common,
        kind,
        data: {
          reconciliationId: 'rcn_01JTEST0001',
          bank: { name: name('中国工商银行苏州分行'), bankCode: '102305000001' },
          trustAccount: { number: '1102020109000012345', name: '苏州市公共资源交易中心投标保证金专户' },
          statementDate: '2025-03-13',
          balances: { openingFen: amount(500000000n), closingBankFen: amount(580000000n), closingLedgerFen: x ? 0n : 579900000n },
          matched: { count: 12, creditsFen: amount(96000000n), debitsFen: amount(16000000n) },
          exceptions: [
            { kind: 'missing_in_ledger', entryRef: 'ICBC20250313000777', amountFen: amount(100000n), detail: '未知虚拟子账号，已转入待处理 Unknown virtual account, sent to suspense' },
            { kind: 'amount_mismatch', entryRef: 'ICBC20250313000778', amountFen: amount(5000n), detail: x ? longSection : '银行 50.00 / 账务 0.00' },
          ],
        },
      };
    case 'deposit_reversal':
      return {
        ...common,
        kind,
        data: {
          depositId: 'dep_01JTEST0001',
          bidder,
          amountFen: amount(80000000n),
          currency: 'CNY',
          virtualAccount: '9558800012345678901',
          payer: account,
          originalEntryRef: x ? `ICBC20250312000123${'0'.repeat(60)}` : 'ICBC20250312000123',
          originalBookedAt: '2025-03-12T01:15:20.000Z',
          receiptVoucherId: 'vch_01JTESTDEPOSITREC0001',
          reversalEntryRef: 'ICBC20250313000901',
          reversedAt: '2025-03-13T02:00:00.000Z',
          statusBefore: 'valid',
          afterOpening: x,
          cancelledRefundIds: x ? Array.from({ length: 12 }, (_, i) => `rfd_01JTEST${String(i).padStart(18, '0')}`) : [],
        },
      };
    case 'refund_return':
      return {
        ...common,
        kind,
        data: {
          refundId: 'rfd_01JTEST0001',
          depositId: 'dep_01JTEST0001',
          sectionId: 'sec_01JTEST0001',
          bidderId: 'bdr_01JTEST0001',
          creditorAccount: account.number,
          creditorName: bidder.name,
          amount: x ? '999999999999999.99' : '800782.34',
          returnReasonCode: 'AC04',
          returnReasonText: x ? `收款账户已销户。${longSection}` : null,
          originalEndToEndId: 'E01JTEST00000000000000000001',
          returnedAt: '2025-05-21T03:00:00.000Z',
        },
      };
    case 'statistics': {
      // A report of the whole centre: no section.
      const { section: _section, ...centreWide } = common;
      return { ...centreWide, kind, data: statisticsReport(x ? 3 : 2, { extreme: x }) };
    }
  }
}

// Company names as a real roster has them: a place, a trade name of two or three characters and a
// kind of company. Trade names draw from the first 1,504 characters of GB 2312 (its most common
// level, in pinyin order), so a roster of thousands of bidders uses about as many distinct
// characters as one from a whole province would, and its font subset is as large.
const places = ['苏州', '无锡', '常州', '南京', '南通', '扬州', '镇江', '泰州', '盐城', '淮安', '宿迁', '徐州', '连云港', '杭州', '宁波', '嘉兴', '湖州', '绍兴', '上海', '合肥', '芜湖', '吴江', '昆山', '常熟', '张家港', '太仓'];
const tradeChars = (() => {
  const gb2312 = new TextDecoder('gbk');
  const chars: string[] = [];
  for (let row = 0xb0; row <= 0xbf; row++) for (let cell = 0xa1; cell <= 0xfe; cell++) chars.push(gb2312.decode(Uint8Array.of(row, cell)));
  return chars;
})();
const companyKinds = ['建设工程有限公司', '建筑安装工程有限公司', '市政园林工程有限公司', '路桥集团有限公司', '水利水电工程有限公司', '装饰工程股份有限公司', '机电设备安装有限公司', '交通工程有限公司'];

/** An opening roster of `bidders` entries with varied names, securities and verdicts. */
export function rosterVoucher(bidders: number, seq = 1): VoucherInput {
  const base = sampleVoucher('opening_roster', { seq });
  if (base.kind !== 'opening_roster') throw new Error('fixture');
  let state = 0x9e3779b9 ^ seq;
  // A linear congruential generator's low bits cycle quickly: take the high ones.
  const next = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
  const chars = tradeChars;
  const entries = Array.from({ length: bidders }, (_, i) => {
    const trade = Array.from({ length: 2 + next(2) }, () => chars[next(chars.length)]).join('');
    const cash = next(3) !== 0;
    const status = (['secured', 'secured', 'secured', 'secured', 'insufficient', 'invalid', 'missing'] as const)[next(7)];
    return {
      bidder: { name: `${places[next(places.length)]}${trade}${companyKinds[next(companyKinds.length)]}`, uscc: `91320${String(100000000000 + i * 7919).slice(0, 12)}X` },
      security: status === 'missing' ? ('none' as const) : cash ? ('cash' as const) : ('guarantee' as const),
      status,
      ...(status === 'missing' ? {} : { amountFen: 80000000n - (status === 'insufficient' ? BigInt(next(1000000)) : 0n) }),
      ...(status === 'missing' ? {} : { reference: cash ? `dep_01J${String(i).padStart(20, '0')}` : `BH-2025-ICBC-SZ-${String(i).padStart(6, '0')}` }),
      rules: status === 'secured' || status === 'missing' ? [] : status === 'insufficient' ? ['R4'] : ['R3', 'R5'],
    };
  });
  return { ...base, data: { ...base.data, entries } };
}
