// Bidders' credit grades as the centre records them (PUT and the CLI import), and the reductions
// a section declares at creation. Findings are kept, never overwritten.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { importCreditFile } from '../../src/cli/credit';
import { bankCode, bearer, keyFor, startTestRuntime, testApp, uniqueUscc } from '../support/runtime';

let rt: Runtime;
let app: Express;
let centre: string;
let tendereeId: string;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
  tendereeId = (await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '某市住建局', uscc: uniqueUscc() })).body.id;
});
afterAll(async () => {
  await rt.close();
});

async function bidder() {
  const uscc = uniqueUscc();
  const res = await request(app).post('/v1/bidders').set(bearer(centre)).send({ name: '乙建设有限公司', uscc, basicAccount: { bankCode: bankCode(), number: '6222020200001234567', name: '乙建设有限公司' } });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, uscc };
}

const finding = (over: Record<string, unknown> = {}) => ({ grade: 'AAA', source: '信用中国（浙江）', validFrom: '2026-01-01', validTo: '2027-12-31', ...over });
const put = (bidderId: string, body: unknown, key = centre) => request(app).put(`/v1/bidders/${bidderId}/credit`).set(bearer(key)).send(body as object);
const findingsOf = (bidderId: string) => rt.db('bidder_credit_grades').where({ bidder_id: bidderId }).orderBy('id');

describe('PUT /v1/bidders/:id/credit', () => {
  it('records a finding with its source, shows it as today\'s grade, and audits it', async () => {
    const b = await bidder();
    const res = await put(b.id, finding());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'bidder_credit', bidderId: b.id, today: { grade: 'AAA', source: '信用中国（浙江）', validFrom: '2026-01-01', validTo: '2027-12-31' } });
    expect(res.body.grades).toHaveLength(1);
    const audit = await rt.db('audit_events').where({ action: 'bidder.credit_graded', entity_id: b.id });
    expect(audit).toHaveLength(1);
    expect(audit[0].data).toMatchObject({ bidderId: b.id, grade: 'AAA', source: '信用中国（浙江）' });
  });

  it('keeps the earlier finding when a new one is recorded, and records the same one only once', async () => {
    const b = await bidder();
    expect((await put(b.id, finding())).status).toBe(200);
    expect((await put(b.id, finding())).status).toBe(200);
    const res = await put(b.id, finding({ grade: 'B', source: '市公共资源交易中心信用评价', validFrom: '2026-06-01' }));
    expect(res.status).toBe(200);
    expect(res.body.today).toMatchObject({ grade: 'B' });
    expect(res.body.grades.map((g: { grade: string }) => g.grade)).toEqual(['B', 'AAA']);
    expect((await findingsOf(b.id)).map((r) => r.grade)).toEqual(['AAA', 'B']);
    expect(await rt.db('audit_events').where({ action: 'bidder.credit_graded', entity_id: b.id })).toHaveLength(2);
  });

  it('refuses malformed findings with 400 and records nothing', async () => {
    const b = await bidder();
    for (const bad of [
      finding({ validTo: '2025-12-31' }),
      finding({ grade: 'aaa' }),
      finding({ grade: '' }),
      finding({ source: '' }),
      finding({ validFrom: '2026-02-30' }),
      finding({ validFrom: '2026-01-01T00:00:00Z' }),
      { ...finding(), extra: 1 },
      { grade: 'A' },
    ]) {
      const res = await put(b.id, bad);
      expect(res.status).toBe(400);
      expect(res.body.error.type).toBe('invalid_request_error');
    }
    expect(await findingsOf(b.id)).toHaveLength(0);
  });

  it('answers 404 for an unknown bidder and to anyone but the centre', async () => {
    const b = await bidder();
    expect((await put('bdr_00000000000000000000000000', finding())).status).toBe(404);
    const own = await keyFor(rt, 'bidder', { bidderId: b.id });
    expect((await put(b.id, finding(), own)).status).toBe(404);
    expect(await findingsOf(b.id)).toHaveLength(0);
  });

  it('lets a bidder read its own credit and not another\'s', async () => {
    const b = await bidder();
    const other = await bidder();
    await put(b.id, finding());
    const own = await keyFor(rt, 'bidder', { bidderId: b.id });
    const mine = await request(app).get(`/v1/bidders/${b.id}/credit`).set(bearer(own));
    expect(mine.status).toBe(200);
    expect(mine.body.today.grade).toBe('AAA');
    expect((await request(app).get(`/v1/bidders/${other.id}/credit`).set(bearer(own))).status).toBe(404);
  });

  it('shows no grade today when every finding has lapsed', async () => {
    const b = await bidder();
    const res = await put(b.id, finding({ validFrom: '2020-01-01', validTo: '2020-12-31' }));
    expect(res.status).toBe(200);
    expect(res.body.today).toBeNull();
    expect(res.body.grades).toHaveLength(1);
  });
});

describe('bidbond credit import', () => {
  const file = (name: string, text: string) => {
    const p = path.join(os.tmpdir(), `credit-${process.pid}-${Date.now()}-${name}.csv`);
    writeFileSync(p, text);
    return p;
  };

  it('records every finding of a platform export, and nothing new when imported again', async () => {
    const a = await bidder();
    const b = await bidder();
    const csv = file('ok', `\ufeffuscc,grade,source,validFrom,validTo\r\n${a.uscc},AA,"信用中国,浙江",2026-01-01,2026-12-31\r\n${b.uscc},B,市信用办,2026-03-01,2027-02-28\r\n`);
    expect(await importCreditFile(rt.db, csv, 'tester')).toEqual({ recorded: 2, unchanged: 0 });
    expect((await findingsOf(a.id)).map((r) => [r.grade, r.source, r.recorded_by])).toEqual([['AA', '信用中国,浙江', 'tester']]);
    expect((await findingsOf(b.id)).map((r) => r.grade)).toEqual(['B']);
    expect(await importCreditFile(rt.db, csv, 'tester')).toEqual({ recorded: 0, unchanged: 2 });
    expect(await findingsOf(a.id)).toHaveLength(1);
    expect(await rt.db('audit_events').where({ action: 'bidder.credit_graded', entity_id: a.id })).toHaveLength(1);
  });

  it('stores nothing when one line is wrong, and names the line', async () => {
    const a = await bidder();
    const unknown = uniqueUscc();
    const cases: [string, RegExp][] = [
      [`uscc,grade,source,validFrom,validTo\n${a.uscc},AA,平台,2026-01-01,2026-12-31\n${unknown},A,平台,2026-01-01,2026-12-31\n`, /line 3: no bidder is registered/],
      [`uscc,grade,source,validFrom,validTo\n${a.uscc},AA,平台,2026-01-01,2026-12-31\n${a.uscc},A,平台,2026-12-01,2026-01-31\n`, /line 3: validTo/],
      [`uscc,grade,source,validFrom,validTo\n${a.uscc},AA,平台,2026-01-01\n`, /line 2: 4 fields/],
      [`uscc,grade,source,validFrom\n${a.uscc},AA,平台,2026-01-01\n`, /lacks validTo/],
      [`uscc,grade,source,validFrom,validTo\n${a.uscc},AA,"平台,2026-01-01,2026-12-31\n`, /not closed/],
    ];
    for (const [text, message] of cases) await expect(importCreditFile(rt.db, file('bad', text), 'tester')).rejects.toThrow(message);
    expect(await findingsOf(a.id)).toHaveLength(0);
  });
});

describe('a section declaring credit reductions', () => {
  const sectionBody = (over: Record<string, unknown> = {}) => ({
    projectCode: `P-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`, sectionCode: 'S-01', name: '市政道路工程一标段', tendereeId, regime: 'tendering_law',
    estimatedPrice: '10000000.00', depositAmount: '200000.00', currency: 'CNY', bidDeadline: new Date(Date.now() + 86400e3).toISOString(), bidValidityDays: 90,
    acceptedSecurity: ['bank'], ...over,
  });

  it('stores them on the section and shows them', async () => {
    const res = await request(app).post('/v1/sections').set(bearer(centre)).send(sectionBody({ creditReductions: [{ grade: 'AAA', percent: 50 }, { grade: 'AA', percent: 20 }] }));
    expect(res.status).toBe(201);
    expect(res.body.creditReductions).toEqual([{ grade: 'AAA', percent: 50 }, { grade: 'AA', percent: 20 }]);
    expect((await request(app).get(`/v1/sections/${res.body.id}`).set(bearer(centre))).body.creditReductions).toEqual([{ grade: 'AAA', percent: 50 }, { grade: 'AA', percent: 20 }]);
    const plain = await request(app).post('/v1/sections').set(bearer(centre)).send(sectionBody());
    expect(plain.body.creditReductions).toEqual([]);
  });

  it('refuses more than the whole security, a fraction, a negative, a repeated or malformed grade (400), creating nothing', async () => {
    for (const creditReductions of [[{ grade: 'A', percent: 101 }], [{ grade: 'A', percent: 12.5 }], [{ grade: 'A', percent: -5 }], [{ grade: 'A', percent: 10 }, { grade: 'A', percent: 20 }], [{ grade: 'a', percent: 10 }], [{ grade: 'A' }]]) {
      const body = sectionBody({ creditReductions });
      const res = await request(app).post('/v1/sections').set(bearer(centre)).send(body);
      expect(res.status).toBe(400);
      expect(await rt.db('sections').where({ project_code: body.projectCode })).toHaveLength(0);
    }
  });
});
