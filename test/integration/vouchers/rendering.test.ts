// What a reader of the voucher sees: the Chinese text of record, amounts whole and in capitals,
// long names wrapped inside the page, a roster continued over pages with its header repeated.
import { toChineseCapital } from '../../../src/domain/capital';
import { a4, margin } from '../../../src/vouchers/layoutPage';
import { renderVoucher, voucherKinds, type VoucherInput } from '../../../src/vouchers/render';
import { amountFenMax, sampleVoucher } from './fixtures';
import { run, tempDir } from './tools';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('bidbond-vouchers-render-');
});
afterAll(() => tmp?.remove());

async function text(pdf: Uint8Array, name: string): Promise<string> {
  const r = await run('pdftotext', ['-enc', 'UTF-8', tmp.file(`${name}.pdf`, pdf), '-']);
  expect(r.code).toBe(0);
  return r.stdout;
}

interface Word {
  page: number;
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
  text: string;
}

async function words(pdf: Uint8Array, name: string): Promise<{ pages: { width: number; height: number }[]; words: Word[] }> {
  const r = await run('pdftotext', ['-bbox', '-enc', 'UTF-8', tmp.file(`${name}.pdf`, pdf), '-']);
  expect(r.code).toBe(0);
  const pages: { width: number; height: number }[] = [];
  const out: Word[] = [];
  for (const m of r.stdout.matchAll(/<page width="([\d.]+)" height="([\d.]+)">|<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)<\/word>/g)) {
    if (m[1]) pages.push({ width: Number(m[1]), height: Number(m[2]) });
    else out.push({ page: pages.length, xMin: Number(m[3]), yMin: Number(m[4]), xMax: Number(m[5]), yMax: Number(m[6]), text: m[7] });
  }
  return { pages, words: out };
}

const expectedText: Record<VoucherInput['kind'], string[]> = {
  deposit_receipt: ['投标保证金收据', '江苏恒通建设工程有限公司', '¥800,000.00', '人民币捌拾万元整', '付款账户'],
  refund_voucher: ['投标保证金退款凭证', '本金', '利息', '逾期补偿', '合计', '¥800,782.34', toChineseCapital(80078234n)],
  verification_report: ['电子保函验真报告', '真实有效', 'R2', 'R7', '通过', '中国工商银行股份有限公司苏州吴江支行'],
  opening_roster: ['开标保证金核验表', '已担保', '现金保证金', '投标单位5建设有限公司'],
  claim_notice: ['保函索赔通知', '中标人无正当理由不与招标人订立合同', '张三（交易中心业务科）'],
  reconciliation_report: ['保证金账户对账报告', '存在差异', '账务缺失', '金额不符', '期初余额'],
  deposit_reversal: ['投标保证金冲正凭证', '冲正金额', '¥800,000.00', '人民币捌拾万元整', '原收据凭证', 'vch_01JTESTDEPOSITREC0001', 'ICBC20250313000901'],
  refund_return: ['投标保证金退款退汇凭证', '退汇原因', 'AC04', '账户已销户', '¥800,782.34', toChineseCapital(80078234n)],
  statistics: ['投标担保统计报表', '2025-01-01', '2025-12-31', '按招标人', '苏州市第2建设管理局', '保函替代率', '33.33%', '¥200,012.34', '合计'],
};

describe.each(voucherKinds)('a rendered %s', (kind) => {
  test('pdftotext shows its Chinese text, voucher id and record hash', async () => {
    const input = sampleVoucher(kind);
    const t = (await text(await renderVoucher(input), kind)).replace(/\s+/g, '');
    for (const s of [...expectedText[kind], input.voucherId, input.recordSha256]) expect(t).toContain(s.replace(/\s+/g, ''));
  });

  test('the longest names and the largest amount stay inside the page margins', async () => {
    const pdf = await renderVoucher(sampleVoucher(kind, { extreme: true }));
    const { pages, words: ws } = await words(pdf, `${kind}-extreme`);
    expect(pages.length).toBeGreaterThan(0);
    for (const p of pages) expect(p).toEqual({ width: a4.width, height: a4.height });
    const tolerance = 0.5;
    // pdftotext measures y from the top, and its boxes include the font's ascent (1.16 em, a few
    // points above the cap height at the title size); the footer sits in the bottom margin.
    const ascentAllowance = 4;
    const footerBottom = a4.height - 20;
    const outside = ws.filter((w) => w.xMin < margin.left - tolerance || w.xMax > a4.width - margin.right + tolerance || w.yMin < margin.top - ascentAllowance || w.yMax > footerBottom);
    expect(outside).toEqual([]);
    const all = ws.map((w) => w.text).join('');
    // Whole, never split over two lines.
    expect(ws.some((w) => w.text.includes('999,999,999,999,999.99'))).toBe(true);
    expect(all).toContain('中铁建设集团华东第七工程局');
  });
});

test('refund voucher: the total in Chinese capitals at the largest amount', async () => {
  const input = sampleVoucher('refund_voucher', { extreme: true });
  const t = (await text(await renderVoucher(input), 'refund-capitals')).replace(/\s+/g, '');
  expect(t).toContain(toChineseCapital(amountFenMax));
  expect(t).toContain('¥999,999,999,999,999.99');
});

test('a refund whose parts do not add up to its total is refused, not printed', async () => {
  const input = sampleVoucher('refund_voucher');
  if (input.kind !== 'refund_voucher') throw new Error('fixture');
  await expect(renderVoucher({ ...input, data: { ...input.data, totalFen: input.data.totalFen + 1n } })).rejects.toThrow('refund total');
});

test('a roster of 60 bidders spans pages, repeats its header on each, and numbers every page', async () => {
  const pdf = await renderVoucher(sampleVoucher('opening_roster', { extreme: true }));
  const { pages, words: ws } = await words(pdf, 'roster-pages');
  expect(pages.length).toBeGreaterThan(2);
  for (let page = 1; page <= pages.length; page++) {
    const onPage = ws.filter((w) => w.page === page).map((w) => w.text).join('');
    expect(onPage).toContain('序号');
    expect(onPage).toContain(`第${page}/${pages.length}页`);
    if (page > 1) expect(onPage).toContain('开标保证金核验表（续）');
  }
  const t = (await text(pdf, 'roster-text')).replace(/\s+/g, '');
  for (let i = 1; i <= 60; i++) expect(t).toContain(`投标单位${i}建设有限公司`);
});

test('the same input renders to the same bytes', async () => {
  const input = sampleVoucher('verification_report');
  const [a, b] = await Promise.all([renderVoucher(input), renderVoucher(input)]);
  expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
});

test('the voucher id, kind and record hash are in the document metadata', async () => {
  const input = sampleVoucher('claim_notice');
  const r = await run('pdfinfo', [tmp.file('meta.pdf', await renderVoucher(input))]);
  expect(r.stdout).toMatch(new RegExp(`Subject:\\s+${input.voucherId}`));
  expect(r.stdout).toContain(`record-sha256:${input.recordSha256}`);
  expect(r.stdout).toContain('保函索赔通知');
});
