import { Readable } from 'node:stream';
import { camt053Chunks, camt053EntriesPerChunk, parseCamt053Stream } from '../../../src/banks/iso20022/camt053';
import { BankMessageInvalid, type StatementEntry } from '../../../src/banks/types';
import { sample, statementEntry, trustAccount } from './fixtures';

const header = {
  messageId: 'STM-20250228-0001',
  statementId: 'STM-20250228-0001-1',
  sequenceNumber: '59',
  account: trustAccount,
  currency: 'CNY',
  date: '2025-02-28',
  openingBalanceFen: -12_345n,
  closingBalanceFen: 100_000_000_00n,
  createdAt: new Date('2025-02-28T15:30:00Z'),
};

async function collect(input: Buffer | string | Readable): Promise<{ entries: StatementEntry[]; summary: Awaited<ReturnType<typeof parseCamt053Stream>> }> {
  const entries: StatementEntry[] = [];
  const summary = await parseCamt053Stream(input, (e) => {
    entries.push(e);
  });
  return { entries, summary };
}

describe('camt.053 samples', () => {
  test('self-authored end-of-day statement: balances, sequence number, the credit', async () => {
    const { entries, summary } = await collect(sample('camt.053.001.08__selfauthored_eod.xml'));
    expect(summary).toEqual({
      messageId: 'STM-20250228-0001',
      statementId: 'STM-20250228-0001-1',
      sequenceNumber: '59',
      account: '110060149018000123456',
      currency: 'CNY',
      date: '2025-02-28',
      openingBalanceFen: 100_000_000n,
      closingBalanceFen: 105_000_000n,
      entryCount: 1,
      creditTotalFen: 5_000_000n,
      debitTotalFen: 0n,
    });
    expect(entries).toEqual([
      {
        entryRef: 'CN20250228BOCM000123',
        direction: 'credit',
        amountFen: 5_000_000n,
        currency: 'CNY',
        bookedAt: '2025-02-27T16:00:00.000Z',
        valueDate: '2025-02-28',
        account: '110060149018000123456',
        counterparty: {},
        remittance: 'T-2025-0042 BIDDEP 7781',
        reversal: false,
        bankTransactionCode: 'PMNT/RCDT/DMCT',
        bookingDateOnly: true,
      },
    ]);
  });

  test('genkgo v8: signed balances (CLBD DBIT is negative), the entry amount rules over its transaction', async () => {
    const { entries, summary } = await collect(sample('camt.053.001.08__genkgo_v8.xml'));
    expect(summary).toMatchObject({
      messageId: 'CAMT053RIB000000000001',
      statementId: '253EURNL26VAYB8060476890',
      sequenceNumber: '12312',
      openingBalanceFen: 1815n,
      closingBalanceFen: -2700n,
      entryCount: 1,
      creditTotalFen: 885n,
      debitTotalFen: 0n,
    });
    expect(entries[0]).toMatchObject({
      entryRef: 'AAAASESS-FP-CN_98765/01',
      direction: 'credit',
      amountFen: 885n,
      currency: 'EUR',
      bookedAt: '2014-12-31T12:15:00.000Z',
      valueDate: '2015-01-02',
      endToEndId: 'MUELL/FINP/RA12345',
      account: 'NL56AGDH9619008421',
      counterparty: { name: 'NAME NAME', accountNumber: 'NL56AGDH9619008421' },
      reversal: false,
    });
  });

  test('genkgo .001.02 minimal: an entry without references gets a stable positional one', async () => {
    const { entries, summary } = await collect(sample('camt.053.001.02__genkgo_minimal.xml'));
    expect(summary).toMatchObject({ openingBalanceFen: 1815n, closingBalanceFen: -2700n, entryCount: 1, creditTotalFen: 885n });
    expect(entries[0]).toMatchObject({ entryRef: '253EURNL26VAYB8060476890/1', amountFen: 885n, reversal: false, counterparty: { name: 'NAME NAME' } });
  });
});

describe('camt.053 streaming', () => {
  test('100,000 entries go out in bounded chunks and come back one by one with exact totals', async () => {
    const total = 100_000;
    let produced = 0;
    function* entries(): Generator<StatementEntry> {
      for (let i = 1; i <= total; i++) {
        produced = i;
        yield statementEntry(i, { reversal: i % 97 === 0 });
      }
    }
    let chunks = 0;
    let largestChunk = 0;
    const source = Readable.from(
      (function* () {
        for (const c of camt053Chunks(header, entries())) {
          chunks += 1;
          largestChunk = Math.max(largestChunk, c.length);
          yield c;
        }
      })(),
    );
    let credit = 0n;
    let debit = 0n;
    let count = 0;
    let producedAtFirstEntry = -1;
    let reversals = 0;
    const summary = await parseCamt053Stream(source, (e) => {
      if (count === 0) producedAtFirstEntry = produced;
      count += 1;
      if (e.direction === 'credit') credit += e.amountFen;
      else debit += e.amountFen;
      if (e.reversal) reversals += 1;
    });
    let expectCredit = 0n;
    let expectDebit = 0n;
    for (let i = 1; i <= total; i++) {
      const e = statementEntry(i);
      if (e.direction === 'credit') expectCredit += e.amountFen;
      else expectDebit += e.amountFen;
    }
    expect(summary).toMatchObject({ entryCount: total, creditTotalFen: expectCredit, debitTotalFen: expectDebit, openingBalanceFen: -12_345n });
    expect([credit, debit, count]).toEqual([expectCredit, expectDebit, total]);
    expect(reversals).toBe(Math.floor(total / 97));
    // Streaming, not buffering: the first entry was handled long before the last was produced.
    expect(producedAtFirstEntry).toBeLessThan(total / 10);
    expect(chunks).toBeGreaterThanOrEqual(total / camt053EntriesPerChunk);
    expect(largestChunk).toBeLessThan(1024 * 1024);
  });

  test('a slow consumer is awaited: never two entries in flight, order kept', async () => {
    const doc = [...camt053Chunks(header, Array.from({ length: 300 }, (_, i) => statementEntry(i + 1)))].join('');
    let inFlight = 0;
    let maxInFlight = 0;
    const refs: string[] = [];
    await parseCamt053Stream(Readable.from([doc]), async (e) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      refs.push(e.entryRef);
      inFlight -= 1;
    });
    expect(maxInFlight).toBe(1);
    expect(refs[0]).toBe('BK0000000001');
    expect(refs[299]).toBe('BK0000000300');
  });

  test('a consumer slow only now and then (a segment handed over) is awaited there, and called at once elsewhere', async () => {
    const doc = [...camt053Chunks(header, Array.from({ length: 300 }, (_, i) => statementEntry(i + 1)))].join('');
    const refs: string[] = [];
    let waiting = false;
    let calledWhileWaiting = 0;
    await parseCamt053Stream(Readable.from([doc]), (e) => {
      if (waiting) calledWhileWaiting += 1;
      refs.push(e.entryRef);
      if (refs.length % 50 !== 0) return;
      waiting = true;
      return new Promise<void>((r) =>
        setTimeout(() => {
          waiting = false;
          r();
        }, 5),
      );
    });
    expect(calledWhileWaiting).toBe(0);
    expect(refs).toEqual(Array.from({ length: 300 }, (_, i) => statementEntry(i + 1).entryRef));
  });

  test('a consumer that throws stops the statement there', async () => {
    const doc = [...camt053Chunks(header, Array.from({ length: 30 }, (_, i) => statementEntry(i + 1)))].join('');
    let seen = 0;
    await expect(
      parseCamt053Stream(Readable.from([doc]), () => {
        seen += 1;
        if (seen === 7) throw new Error('the database refused entry 7');
      }),
    ).rejects.toThrow('the database refused entry 7');
    expect(seen).toBe(7);
  });

  test('what we build reads back: entry fields and a debit balance', async () => {
    const e1 = statementEntry(1, { endToEndId: 'RFD-BID-1' });
    const e2 = statementEntry(3, { reversal: true, originalEntryRef: 'BK0000000001' });
    const { entries, summary } = await collect([...camt053Chunks(header, [e1, e2])].join(''));
    expect(summary.openingBalanceFen).toBe(-12_345n);
    expect(summary.closingBalanceFen).toBe(100_000_000_00n);
    expect(summary.sequenceNumber).toBe('59');
    // A debit that reverses a credit keeps the credit's code (received transfer).
    expect(entries).toEqual([
      { ...e1, reversal: false, bankTransactionCode: 'PMNT/RCDT/DMCT' },
      { ...e2, bankTransactionCode: 'PMNT/RCDT/DMCT' },
    ]);
  });

  test('a document cut short is refused, even after some entries were delivered', async () => {
    const doc = [...camt053Chunks(header, [statementEntry(1), statementEntry(2)])].join('');
    const cut = doc.slice(0, doc.lastIndexOf('<Ntry>') + 200);
    await expect(collect(cut)).rejects.toThrow(BankMessageInvalid);
  });

  test('a statement without a closing balance is refused', async () => {
    const doc = [...camt053Chunks(header, [])].join('').replace(/<Bal><Tp><CdOrPrtry><Cd>CLBD.*?<\/Bal>/, '');
    await expect(collect(doc)).rejects.toThrow(/CLBD/);
  });

  test('PRCD stands in for a missing OPBD', async () => {
    const doc = [...camt053Chunks(header, [])].join('').replace('<Cd>OPBD</Cd>', '<Cd>PRCD</Cd>');
    expect((await collect(doc)).summary.openingBalanceFen).toBe(-12_345n);
  });

  test('a pending entry is not delivered', async () => {
    const doc = [...camt053Chunks(header, [statementEntry(1), statementEntry(2)])].join('').replace('<Sts><Cd>BOOK</Cd></Sts>', '<Sts><Cd>PDNG</Cd></Sts>');
    const { entries, summary } = await collect(doc);
    expect(entries.map((e) => e.entryRef)).toEqual(['BK0000000002']);
    expect(summary.entryCount).toBe(1);
  });

  test('a camt.054 given as a statement is refused with what it was', async () => {
    await expect(collect(sample('camt.054.001.08__selfauthored_credit.xml'))).rejects.toThrow(/expected camt.053, got camt.054/);
  });
});
