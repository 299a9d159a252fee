// The statistics put on record as a signed voucher (统计报表凭证), on a database of its own so that
// every figure is this file's: requested by the centre, rendered and signed by the vouchers
// queue, checked by poppler's pdfsig, and showing exactly the figures GET /v1/statistics answers
// for the same query. A year by tenderee runs over many pages with its headers repeated.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { businessDate, addCalendarDays } from '../../src/domain/time';
import { parseAmount } from '../../src/domain/money';
import { devPkiPaths } from '../../src/pki/devPki';
import type { Runtime } from '../../src/runtime';
import { startWorkers, type RunningWorkers } from '../../src/queue/worker';
import { statisticsVoucherGroupsMax } from '../../src/statistics/voucher';
import { voucherJobHandlers } from '../../src/vouchers/jobs';
import { displayAmount, displayShare } from '../../src/vouchers/layouts';
import { voucherPagesMax } from '../../src/vouchers/layoutPage';
import { renderVoucher } from '../../src/vouchers/render';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { bearer, keyFor, startTestRuntime, testApp, testDataDir } from '../support/runtime';
import { waitFor } from '../support/wait';
import { DepositWorld, entry, jsonNotification } from './deposits.support';
import { World } from './guaranteesFixtures';
import { statisticsReport } from '../integration/vouchers/statisticsFixture';

let isolated: IsolatedDatabase;
let rt: Runtime;
let app: Express;
let workers: RunningWorkers;
let centre: string;
let auditor: string;
let tmp: string;
const today = businessDate(new Date());
const period = { from: addCalendarDays(today, -30), to: today };

beforeAll(async () => {
  isolated = await createIsolatedDatabase('statsvoucher');
  rt = await startTestRuntime({ ...isolated.env });
  app = testApp(rt);
  workers = await startWorkers(rt, process.env.REDIS_URL!, voucherJobHandlers);
  centre = await keyFor(rt, 'centre');
  auditor = await keyFor(rt, 'auditor');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'bb-stats-voucher-'));
  await build();
}, 120_000);
afterAll(async () => {
  await workers?.close();
  await rt?.close();
  await isolated?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Two tenderees: one with two cash deposits of ¥50,000.00 and ¥12,345.67 (its section asks for
 *  the larger), one with a deposit of ¥30,000.00; and a ¥50,000.00 bank guarantee. */
async function build(): Promise<void> {
  const w = new DepositWorld(rt, app, centre);
  const bank = await w.bank();
  const pay = async (section: { id: string }, amount: string) => {
    const bidder = await w.bidder();
    const va = await w.virtualAccount(section.id, bidder.id);
    const res = await w.notify(bank, jsonNotification([entry(va, amount, { name: bidder.account.name, number: bidder.account.number })]));
    expect([res.status, res.body.accepted]).toEqual([200, 1]);
  };
  const a = await w.section(bank.id, { depositAmount: '50000.00' });
  await pay(a, '50000.00');
  await pay(a, '12345.67');
  const b = await w.section(bank.id, { depositAmount: '30000.00' });
  await pay(b, '30000.00');
  const g = await new World(rt, app).init();
  const scene = await g.scene('bank', { accepted: ['bank'] });
  const issued = await g.issue(scene.issuer, g.issuance(scene));
  expect([issued.status, issued.body.status]).toEqual([201, 'issued']);
}

const requestVoucher = (key: string, body: unknown, idempotencyKey?: string) => {
  const r = request(app).post('/v1/statistics/vouchers').set(bearer(key));
  if (idempotencyKey) r.set('Idempotency-Key', idempotencyKey);
  return r.send(body as object);
};

const statisticsVouchers = async () => Number((await rt.db('vouchers').where({ kind: 'statistics' }).count({ n: '*' }))[0].n);

async function signedPdf(voucherId: string, key = centre): Promise<Buffer> {
  const meta = await waitFor(`voucher ${voucherId} rendered`, async () => {
    const v = (await request(app).get(`/v1/vouchers/${voucherId}`).set(bearer(key))).body;
    return v.status === 'signed' || v.status === 'failed' || v.error ? v : undefined;
  }, 60_000, 100);
  expect([meta.status, meta.error]).toEqual(['signed', null]);
  const res = await request(app).get(`/v1/vouchers/${voucherId}/pdf`).set(bearer(key)).buffer(true).parse((r, cb) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => cb(null, Buffer.concat(chunks)));
  });
  expect([res.status, res.headers['content-type']]).toEqual([200, 'application/pdf']);
  return res.body as Buffer;
}

function pdftotext(pdf: Uint8Array, name: string, layout = true): string {
  const file = path.join(tmp, `${name}.pdf`);
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', [...(layout ? ['-layout'] : []), '-enc', 'UTF-8', file, '-'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

/** Lines of a table in the text: the row whose first cell is `label`, in the table under
 *  `heading` (every table has a row per group and a total). */
function rowOf(text: string, heading: string, label: string): string[] {
  const at = text.indexOf(heading);
  expect(at).toBeGreaterThanOrEqual(0);
  const line = text.slice(at).split('\n').find((l) => l.trim().startsWith(label));
  if (!line) throw new Error(`no row ${label} under ${heading}`);
  return line.trim().slice(label.length).trim().split(/\s{2,}|\s(?=¥)/).filter(Boolean);
}

describe('the statistics voucher (统计报表凭证)', () => {
  it('is requested by the centre, signed by the vouchers queue, valid under pdfsig, and shows the figures GET /v1/statistics gives', async () => {
    const body = { ...period, groupBy: 'tenderee' };
    const res = await requestVoucher(centre, body, `stats-${Date.now()}`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ object: 'statistics_voucher', from: period.from, to: period.to, groupBy: 'tenderee' });
    expect(res.body.voucherId).toMatch(/^vch_/);
    const json = await request(app).get('/v1/statistics').query(body).set(bearer(auditor));
    expect(json.status).toBe(200);
    // What was frozen is the answer itself.
    expect(res.body.statistics).toEqual(json.body);
    expect(json.body.totals.deposits.received).toEqual({ count: 3, amount: '92345.67' });
    expect(json.body.groups).toHaveLength(3);

    // The auditor reads it too.
    const pdf = await signedPdf(res.body.voucherId, auditor);
    const meta = await request(app).get(`/v1/vouchers/${res.body.voucherId}`).set(bearer(auditor));
    expect(meta.body).toMatchObject({ kind: 'statistics', subject: { type: 'statistics' }, recordSha256: res.body.recordSha256, status: 'signed' });

    const file = path.join(tmp, 'signed.pdf');
    writeFileSync(file, pdf);
    const nss = path.join(tmp, 'nss');
    execFileSync('mkdir', ['-p', nss]);
    execFileSync('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']);
    execFileSync('certutil', ['-A', '-d', `sql:${nss}`, '-n', 'root', '-t', 'CT,C,C', '-i', devPkiPaths(path.join(testDataDir(), 'pki')).rootCert]);
    const sig = spawnSync('pdfsig', ['-nssdir', `sql:${nss}`, file], { encoding: 'utf8' });
    expect(sig.stdout).toMatch(/Signature is Valid/);
    expect(sig.stdout).toMatch(/Certificate is Trusted/);
    const verified = await request(app).post('/v1/vouchers/verify').set('Content-Type', 'application/pdf').send(pdf);
    expect(verified.body).toMatchObject({ valid: true, voucherId: res.body.voucherId, matchesRecord: true });

    const text = pdftotext(pdf, 'figures');
    const flat = text.replace(/\s+/g, '');
    for (const s of ['投标担保统计报表', 'Bid security statistics', period.from, period.to, '按招标人', res.body.voucherId, res.body.recordSha256]) expect(flat).toContain(s.replace(/\s+/g, ''));
    const s = json.body;
    // Tenderees may share a name (these three do): the voucher lists each group's id by number.
    for (const g of s.groups) expect(flat).toContain(g.key);
    const money = (a: string) => displayAmount(parseAmount(a, { allowZero: true }));
    const rows: [string, { name: string | null; key: string | null } & typeof s.totals][] = [
      ...s.groups.map((g: any, i: number) => [`${i + 1}. ${g.name}`, g] as [string, any]),
      ['合计 Total', s.totals],
    ];
    for (const [label, f] of rows) {
      expect(rowOf(text, '标段与有效投标担保', label)).toEqual(
        [f.sections.created, f.sections.opened, f.sections.terminated, f.bids.secured, f.bids.cash.count, f.bids.guarantee.count].map(String).concat([displayShare(f.bids.guaranteeShare.byCount), displayShare(f.bids.guaranteeShare.byAmount)]),
      );
      expect(rowOf(text, '投标担保方式与金额', label)).toEqual([String(f.bids.cash.count), money(f.bids.cash.amount), String(f.bids.guarantee.count), money(f.bids.guarantee.amount)]);
      expect(rowOf(text, '电子保函（按出函机构类型）', label)).toEqual([
        String(f.guarantees.bank.count), money(f.guarantees.bank.amount),
        String(f.guarantees.insurance.count), money(f.guarantees.insurance.amount),
        String(f.guarantees.guarantor.count), money(f.guarantees.guarantor.amount),
        String(f.guarantees.rejected),
      ]);
      expect(rowOf(text, '保证金收取与退还', label)).toEqual([
        String(f.deposits.received.count), money(f.deposits.received.amount),
        String(f.refunds.paid.count), money(f.refunds.paid.amount), money(f.refunds.interestPaid), money(f.refunds.lateFeesPaid),
      ]);
      expect(rowOf(text, '退还时效', label)).toEqual([f.refunds.onTime, f.refunds.late, f.refunds.r11.onTime, f.refunds.r11.late].map(String).concat([f.refunds.daysHeld.mean ?? '—', f.refunds.daysHeld.p95 ?? '—']));
      expect(rowOf(text, '不予退还与保函索赔', label)).toEqual([String(f.forfeitures.count), money(f.forfeitures.amount), String(f.claimsPaid.count), money(f.claimsPaid.amount)]);
    }
    expect(rowOf(text, '保证金收取与退还', '合计 Total').slice(0, 2)).toEqual(['3', '¥92,345.67']);
    expect(rowOf(text, '电子保函（按出函机构类型）', '合计 Total').slice(0, 2)).toEqual(['1', '¥50,000.00']);
  }, 120_000);

  it('answers a replay with the same Idempotency-Key with the same voucher, and records nothing more', async () => {
    const key = `stats-replay-${Date.now()}`;
    const body = { ...period, groupBy: 'month' };
    const first = await requestVoucher(centre, body, key);
    expect(first.status).toBe(202);
    const before = await statisticsVouchers();
    const again = await requestVoucher(centre, body, key);
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.voucherId).toBe(first.body.voucherId);
    expect(await statisticsVouchers()).toBe(before);
    const other = await requestVoucher(centre, { ...body, groupBy: 'regime' }, key);
    expect([other.status, other.body.error.code]).toEqual([422, 'idempotency_key_reused']);
    await signedPdf(first.body.voucherId);
  }, 60_000);

  it('is requested by the centre only: an auditor reads statistics and vouchers but cannot ask for one', async () => {
    const before = await statisticsVouchers();
    const res = await requestVoucher(auditor, period);
    expect(res.status).toBe(404);
    expect(await statisticsVouchers()).toBe(before);
    expect((await request(app).get('/v1/statistics').query(period).set(bearer(auditor))).status).toBe(200);
  });

  it('refuses a bad period or grouping with 400 and records nothing', async () => {
    const before = await statisticsVouchers();
    const reversed = await requestVoucher(centre, { from: today, to: addCalendarDays(today, -1) });
    expect([reversed.status, reversed.body.error.code, reversed.body.error.param]).toEqual([400, 'invalid_period', 'to']);
    const tooLong = await requestVoucher(centre, { from: '2000-01-01', to: today });
    expect([tooLong.status, tooLong.body.error.code]).toEqual([400, 'period_too_long']);
    const notADate = await requestVoucher(centre, { from: '2026-02-30', to: today });
    expect(notADate.status).toBe(400);
    const grouping = await requestVoucher(centre, { ...period, groupBy: 'colour' });
    expect(grouping.status).toBe(400);
    const extra = await requestVoucher(centre, { ...period, format: 'xlsx' });
    expect(extra.status).toBe(400);
    expect(await statisticsVouchers()).toBe(before);
    expect(await rt.db('audit_events').where({ action: 'statistics.voucher_requested' }).whereIn('entity_id', rt.db('vouchers').where({ kind: 'statistics' }).select('id')).count({ n: '*' }).then((r) => Number(r[0].n))).toBe(before);
  });

  it('asking again while no figure has changed returns the voucher on record; a changed figure makes a new one', async () => {
    const body = { ...period };
    const first = await requestVoucher(centre, body);
    const same = await requestVoucher(centre, body);
    expect(same.body.voucherId).toBe(first.body.voucherId);
    const g = await new World(rt, app).init();
    const scene = await g.scene('bank', { accepted: ['bank'] });
    expect((await g.issue(scene.issuer, g.issuance(scene))).status).toBe(201);
    const changed = await requestVoucher(centre, body);
    expect(changed.body.voucherId).not.toBe(first.body.voucherId);
    expect(changed.body.statistics.totals.guarantees.bank.count).toBe(first.body.statistics.totals.guarantees.bank.count + 1);
  });
});

describe('a statistics voucher of many groups', () => {
  it('a year by tenderee runs over pages, each with the table header repeated, and ends with the totals', async () => {
    const groups = 600;
    expect(groups).toBeLessThan(statisticsVoucherGroupsMax);
    const input = {
      kind: 'statistics' as const,
      voucherId: 'vch_01jteststatistics000000001',
      issuedAt: '2026-01-05T02:00:00.000Z',
      centre: { name: '苏州市公共资源交易中心' },
      verifyUrl: 'https://bidbond.example.cn/verify/vch_01jteststatistics000000001',
      recordSha256: 'ab'.repeat(32),
      data: statisticsReport(groups),
    };
    const started = Date.now();
    const pdf = await renderVoucher(input);
    const renderMs = Date.now() - started;
    const pages = pdftotext(pdf, 'many', false).split('\f').filter((p) => p.trim() !== '');
    // The list of groups, then six tables of 601 rows.
    expect(pages.length).toBeGreaterThan(60);
    for (const [i, page] of pages.entries()) {
      const flat = page.replace(/\s+/g, '');
      expect(flat).toContain(`第${i + 1}/${pages.length}页`);
      if (i > 0) {
        expect(flat).toContain('投标担保统计报表（续）');
        // Every page past the first continues the list of groups or a table of figures, under its
        // header.
        const header = flat.includes('序号') && flat.includes('No.') && flat.includes('编号') ? 'groups' : flat.includes('分组') && flat.includes('Group') ? 'figures' : 'none';
        expect([i, header]).not.toEqual([i, 'none']);
      }
    }
    const all = pages.join('').replace(/\s+/g, '');
    for (const i of [0, 299, 599]) expect(all).toContain(`${i + 1}.苏州市第${i + 1}建设管理局`);
    expect(all.split('合计Total').length - 1).toBe(6);
    expect(renderMs).toBeLessThan(60_000);
  }, 120_000);

  it('the most groups a voucher takes, every name as long as the registry allows, stays inside the page bound', async () => {
    const input = {
      kind: 'statistics' as const,
      voucherId: 'vch_01jteststatistics000000002',
      issuedAt: '2026-01-05T02:00:00.000Z',
      centre: { name: '苏州市公共资源交易中心' },
      verifyUrl: 'https://bidbond.example.cn/verify/vch_01jteststatistics000000002',
      recordSha256: 'cd'.repeat(32),
      data: statisticsReport(statisticsVoucherGroupsMax, { extreme: true }),
    };
    const pdf = await renderVoucher(input);
    const pages = (Buffer.from(pdf).toString('latin1').match(/\/Type\s*\/Page\b/g) ?? []).length;
    expect(pages).toBeGreaterThan(statisticsVoucherGroupsMax / 10);
    expect(pages).toBeLessThanOrEqual(voucherPagesMax);
  }, 120_000);
});
