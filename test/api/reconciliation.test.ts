// The reconciliation API as each caller sees it: uploads of other banks' camt.053 files (the
// shared .001.02 sample), hostile XML refused with nothing recorded, statement sequence gaps and
// repeats, and who may see what.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { camt053Chunks } from '../../src/banks/iso20022/camt053';
import type { StatementEntry } from '../../src/banks/types';
import type { Runtime } from '../../src/runtime';
import { DepositWorld, type Bank } from './deposits.support';
import { bearer, keyFor, startTestRuntime, testApp } from '../support/runtime';

const samples = path.resolve(__dirname, '../fixtures/iso20022/samples');

let rt: Runtime;
let app: Express;
let centre: string;
let bank: Bank;
let trustNumber: string;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
  bank = await new DepositWorld(rt, app, centre).bank();
  trustNumber = (await rt.db('banks').where({ id: bank.id }).first()).trust_account_number;
});

afterAll(async () => {
  await rt?.close();
});

const upload = (xml: string | Buffer, bankId = bank.id, key = centre) =>
  request(app).post(`/v1/reconciliations?bankId=${bankId}`).set(bearer(key)).set('Content-Type', 'application/xml').send(xml);

function statement(date: string, seq: string, entries: StatementEntry[], messageId: string): string {
  const credits = entries.filter((e) => e.direction === 'credit').reduce((s, e) => s + e.amountFen, 0n);
  const debits = entries.filter((e) => e.direction === 'debit').reduce((s, e) => s + e.amountFen, 0n);
  return [...camt053Chunks({ messageId, statementId: `ST${date.replace(/-/g, '')}`, sequenceNumber: seq, account: trustNumber, currency: 'CNY', date, openingBalanceFen: 0n, closingBalanceFen: credits - debits, createdAt: new Date() }, entries)].join('');
}

const statementCount = async () => Number((await rt.db('statements').where({ bank_id: bank.id }).count({ n: '*' }).first())!.n);

describe('uploading statements', () => {
  it('hostile XML (entity expansion, external entity) is refused with 400 and nothing is recorded', async () => {
    const before = await statementCount();
    const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>&lol9;</MsgId></GrpHdr></BkToCstmrStmt></Document>`;
    const xxe = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>&xxe;</MsgId></GrpHdr></BkToCstmrStmt></Document>`;
    for (const body of [lol, xxe, '<Document><unclosed>', '']) {
      const res = await upload(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('statement_invalid');
    }
    expect(await statementCount()).toBe(before);
    expect(await rt.db('reconciliations').where({ bank_id: bank.id })).toHaveLength(0);
  });

  it('a camt.053.001.02 file from another bank (the shared sample, addressed to this trust account in CNY) is read entry by entry', async () => {
    const xml = readFileSync(path.join(samples, 'camt.053.001.02__genkgo_minimal.xml'), 'utf8')
      .replace(/<IBAN>NL26VAYB8060476890<\/IBAN>/g, `<Othr><Id>${trustNumber}</Id></Othr>`)
      .replace(/Ccy="(EUR|SEK|CHF|USD)"/g, 'Ccy="CNY"')
      .replace(/<Ccy>(EUR|SEK|CHF|USD)<\/Ccy>/g, '<Ccy>CNY</Ccy>');
    const res = await upload(xml);
    expect(res.status).toBe(201);
    const r = (await request(app).get(`/v1/reconciliations/${res.body.id}`).set(bearer(centre)).expect(200)).body;
    expect(r.statement.messageId).toBe('CAMT053RIB000000000001');
    expect(r.statement.sequenceNumber).toBe('12312');
    expect(r.entries).toBeGreaterThan(0);
    expect(r.lines.data).toHaveLength(r.entries);
    // Nothing of this file is known to the ledger, and every line says so.
    expect(r.lines.data.every((l: any) => ['missing_in_ledger', 'recovered', 'duplicate'].includes(l.result))).toBe(true);
    expect((await upload(xml)).body.id).toBe(res.body.id);
  });

  it('a statement for another account is refused (422) and one of a bank the service does not know is 404', async () => {
    const other = statement('2021-03-01', '1', [], 'WRONGACCT1').replace(`<Id>${trustNumber}</Id>`, '<Id>6222000000000000001</Id>');
    expect((await upload(other)).status).toBe(422);
    expect((await upload(statement('2021-03-01', '1', [], 'NOBANK1'), 'bnk_00000000000000000000000000')).status).toBe(404);
    expect((await request(app).post('/v1/reconciliations').set(bearer(centre)).set('Content-Type', 'text/plain').send('x')).status).toBe(415);
    expect((await request(app).post('/v1/reconciliations').set(bearer(centre)).send({ bankId: bank.id })).status).toBe(400);
  });

  it('a gap and a repeat in the statements\' sequence numbers are flagged', async () => {
    const e = (ref: string): StatementEntry => ({ entryRef: ref, direction: 'debit', amountFen: 100n, currency: 'CNY', bookedAt: '2022-05-02T02:00:00Z', valueDate: '2022-05-02', counterparty: {} });
    const first = await upload(statement('2022-05-01', '41', [], 'SEQ41'));
    expect(first.status).toBe(201);
    const gap = await upload(statement('2022-05-03', '43', [e('FEE-0503')], 'SEQ43'));
    const g = (await request(app).get(`/v1/reconciliations/${gap.body.id}`).set(bearer(centre))).body;
    expect(g.exceptions.data.map((x: any) => x.kind)).toContain('sequence_gap');
    expect(g.exceptions.data.find((x: any) => x.kind === 'sequence_gap').statementFacts).toMatchObject({ sequenceNumber: '43', previousSequenceNumber: '41' });
    const repeat = await upload(statement('2022-05-04', '43', [], 'SEQ43B'));
    const r = (await request(app).get(`/v1/reconciliations/${repeat.body.id}`).set(bearer(centre))).body;
    expect(r.exceptions.data.map((x: any) => x.kind)).toContain('sequence_repeat');
  });
});

describe('who sees reconciliations', () => {
  it('an auditor reads reports and the CSV but cannot reconcile or resolve; bidders and tenderees see nothing', async () => {
    const res = await upload(statement('2023-01-09', '7', [], 'AUDITED1'));
    expect(res.status).toBe(201);
    const auditor = await keyFor(rt, 'auditor');
    expect((await request(app).get(`/v1/reconciliations/${res.body.id}`).set(bearer(auditor))).status).toBe(200);
    expect((await request(app).get(`/v1/reconciliations/${res.body.id}.csv`).set(bearer(auditor))).status).toBe(200);
    expect((await upload(statement('2023-01-10', '8', [], 'AUDITED2'), bank.id, auditor)).status).toBe(404);
    const bidderId = (await new DepositWorld(rt, app, centre).bidder()).id;
    const bidder = await keyFor(rt, 'bidder', { bidderId });
    expect((await request(app).get(`/v1/reconciliations/${res.body.id}`).set(bearer(bidder))).status).toBe(404);
    expect((await request(app).get('/v1/reconciliations').set(bearer(bidder))).status).toBe(404);
    expect((await request(app).get('/v1/reconciliations/rcn_00000000000000000000000000').set(bearer(centre))).status).toBe(404);
  });
});
