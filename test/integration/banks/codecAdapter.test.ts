// The adapters' HTTP side against a tiny in-test bank that returns canned documents. The real
// sandbox bank is tested against the same contract elsewhere.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBankAdapter, bankRequestTimeoutMs, protocolOfAdapter } from '../../../src/banks/adapters';
import { buildPain002 } from '../../../src/banks/iso20022/pain002';
import { parsePain001 } from '../../../src/banks/iso20022/pain001';
import { camt053Chunks } from '../../../src/banks/iso20022/camt053';
import {
  cnh2hBuildErrorResponse,
  cnh2hBuildStatement,
  cnh2hBuildStatusResponse,
  cnh2hParsePaymentRequest,
  cnh2hParseStatusQuery,
  cnh2hParseStatementQuery,
} from '../../../src/banks/cnh2h/protocol';
import { BankUnreachable, type StatementEntry } from '../../../src/banks/types';
import { statementEntry, transferBatch, trustAccount } from '../../unit/banks/fixtures';

type Handler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;

let server: http.Server;
let endpoint: string;
let handler: Handler;
const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bank/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen.length = 0;
});

const sign = (body: Buffer) => ({ 'Bidbond-Signature': `sig-of-${body.length}`, 'Bidbond-Timestamp': '1' });
const header = {
  messageId: 'STM-1', statementId: 'STM-1-1', sequenceNumber: '3', account: trustAccount, currency: 'CNY',
  date: '2025-02-28', openingBalanceFen: 0n, closingBalanceFen: 123n,
};

test('the default timeout is a named constant', () => {
  expect(bankRequestTimeoutMs).toBeGreaterThan(0);
});

describe('iso20022 adapter', () => {
  const adapter = () => createBankAdapter({ protocol: 'iso20022', endpoint, sign, timeoutMs: 500 });

  test('sends a signed pain.001 and reads the pain.002 acceptance', async () => {
    const batch = transferBatch();
    handler = (_req, body, res) => {
      const got = parsePain001(body);
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(buildPain002({ originalMessageId: got.messageId, groupStatus: 'ACTC', transactions: [] }, new Date()));
    };
    const result = await adapter().sendTransfers(batch);
    expect(result).toMatchObject({ messageId: batch.messageId, accepted: true, report: { groupStatus: 'ACTC' } });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/bank/iso20022/payments' });
    expect(seen[0].headers['content-type']).toMatch(/application\/xml/);
    expect(seen[0].headers['bidbond-signature']).toBe(`sig-of-${seen[0].body.length}`);
    expect(parsePain001(seen[0].body).transfers.map((t) => t.amountFen)).toEqual(batch.transfers.map((t) => t.amountFen));
  });

  test('a whole-file RJCT is not accepted and keeps its reason', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(buildPain002({ originalMessageId: 'RFD-20250301-0001', groupStatus: 'RJCT', groupReasonCode: 'FF01', transactions: [] }, new Date()));
    };
    expect(await adapter().sendTransfers(transferBatch())).toMatchObject({ accepted: false, report: { groupStatus: 'RJCT', groupReasonCode: 'FF01' } });
  });

  test('an answer about another message, or an unreadable one, leaves the outcome unknown', async () => {
    handler = (_req, _body, res) => res.end(buildPain002({ originalMessageId: 'OTHER', groupStatus: 'ACTC', transactions: [] }, new Date()));
    await expect(adapter().sendTransfers(transferBatch())).rejects.toThrow(BankUnreachable);
    handler = (_req, _body, res) => res.end('<html>gateway error</html>');
    await expect(adapter().sendTransfers(transferBatch())).rejects.toThrow(/answer unreadable.*outcome unknown/);
  });

  test('a 4xx is a refusal without processing', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(401);
      res.end('bad signature');
    };
    expect(await adapter().sendTransfers(transferBatch())).toMatchObject({ accepted: false, report: { groupStatus: 'RJCT', groupReasonCode: 'HTTP401' } });
  });

  test('a 5xx is BankUnreachable: the outcome is unknown', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(503);
      res.end();
    };
    await expect(adapter().sendTransfers(transferBatch())).rejects.toThrow(BankUnreachable);
  });

  test('no answer within the timeout is BankUnreachable', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    await expect(adapter().sendTransfers(transferBatch())).rejects.toThrow(/no answer within 500 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a refused connection is BankUnreachable', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const a = createBankAdapter({ protocol: 'iso20022', endpoint: `http://127.0.0.1:${port}`, timeoutMs: 500 });
    await expect(a.sendTransfers(transferBatch())).rejects.toThrow(BankUnreachable);
  });

  test('status: listed transactions as reported, unlisted ones per the group status', async () => {
    handler = (_req, _body, res) =>
      res.end(
        buildPain002(
          {
            originalMessageId: 'M/1 2',
            groupStatus: 'ACTC',
            transactions: [{ endToEndId: 'E1', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AC04' }],
          },
          new Date(),
        ),
      );
    const report = await adapter().getStatus('M/1 2', ['E1', 'E2']);
    expect(seen[0].url).toBe('/bank/iso20022/payments/M%2F1%202/status');
    expect(report.transactions).toEqual([
      { endToEndId: 'E1', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AC04' },
      { endToEndId: 'E2', outcome: 'pending', bankStatus: 'ACTC' },
    ]);
  });

  test('status 404: the bank never received the message, every transfer unknown', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(404);
      res.end();
    };
    expect(await adapter().getStatus('M1', ['E1', 'E2'])).toEqual({
      originalMessageId: 'M1',
      transactions: [
        { endToEndId: 'E1', outcome: 'unknown', bankStatus: '' },
        { endToEndId: 'E2', outcome: 'unknown', bankStatus: '' },
      ],
    });
  });

  test('the statement is streamed from the bank into the parser', async () => {
    const entries = Array.from({ length: 2000 }, (_, i) => statementEntry(i + 1));
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      for (const chunk of camt053Chunks({ ...header, createdAt: new Date() }, entries)) res.write(chunk);
      res.end();
    };
    const a = adapter();
    const stream = await a.fetchStatement({ account: trustAccount, date: '2025-02-28' });
    expect(seen[0].url).toBe(`/bank/iso20022/statements?account=${trustAccount}&date=2025-02-28`);
    const got: StatementEntry[] = [];
    const summary = await a.parseStatement(stream, async (e) => {
      got.push(e);
    });
    expect(summary).toMatchObject({ entryCount: 2000, closingBalanceFen: 123n, sequenceNumber: '3' });
    expect(got[1999].entryRef).toBe('BK0000002000');
  });

  test('a statement that stalls mid-way is BankUnreachable, not a short statement', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      const [first] = camt053Chunks({ ...header, createdAt: new Date() }, [statementEntry(1)]);
      res.write(first); // and then nothing more
    };
    const a = adapter();
    const stream = await a.fetchStatement({ account: trustAccount, date: '2025-02-28' });
    await expect(a.parseStatement(stream, () => undefined)).rejects.toThrow(BankUnreachable);
  });

  test('a sandbox bank record is the iso20022 adapter', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(404);
      res.end();
    };
    const a = createBankAdapter({ protocol: protocolOfAdapter('sandbox'), endpoint });
    expect(a.protocol).toBe('iso20022');
    await a.getStatus('M1', []);
    expect(seen[0].url).toBe('/bank/iso20022/payments/M1/status');
  });
});

describe('cn-h2h adapter', () => {
  const adapter = () => createBankAdapter({ protocol: 'cn-h2h', endpoint, sign, timeoutMs: 500 });
  const json = (res: http.ServerResponse, value: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };

  test('a batch goes to the gateway with its trade code and comes back accepted', async () => {
    handler = (req, body, res) => {
      const batch = cnh2hParsePaymentRequest(body);
      json(res, cnh2hBuildStatusResponse(
        { originalMessageId: batch.messageId, transactions: batch.transfers.map((t) => ({ endToEndId: t.endToEndId, outcome: 'pending', bankStatus: '2' })) },
        { transCode: String(req.headers['x-trans-code']) },
      ));
    };
    const result = await adapter().sendTransfers(transferBatch());
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/bank/cn-h2h/gateway' });
    expect(seen[0].headers['x-trans-code']).toBe('B2E0001');
    expect(seen[0].headers['bidbond-signature']).toBeDefined();
    expect(result.accepted).toBe(true);
    expect(result.report!.transactions.every((t) => t.outcome === 'pending')).toBe(true);
  });

  test('an unreadable answer to a payment is BankUnreachable (the bank may have taken it)', async () => {
    handler = (_req, _body, res) => json(res, { head: { retCode: '000000' } });
    await expect(adapter().sendTransfers(transferBatch())).rejects.toThrow(BankUnreachable);
  });

  test('E9999 (system busy) is BankUnreachable', async () => {
    handler = (_req, _body, res) => json(res, cnh2hBuildErrorResponse('B2E0001', 'x', 'E9999', '系统繁忙'));
    await expect(adapter().sendTransfers(transferBatch())).rejects.toThrow(BankUnreachable);
  });

  test('E2002 (duplicate batch) is a refusal', async () => {
    handler = (_req, _body, res) => json(res, cnh2hBuildErrorResponse('B2E0001', 'x', 'E2002', '批次号重复'));
    expect(await adapter().sendTransfers(transferBatch())).toMatchObject({ accepted: false, report: { groupStatus: 'RJCT', groupReasonCode: 'AM05' } });
  });

  test('status query: E3001 means never received, every transfer unknown', async () => {
    handler = (_req, body, res) => {
      expect(cnh2hParseStatusQuery(body).originalMessageId).toBe('B1');
      json(res, cnh2hBuildErrorResponse('B2E0002', 'x', 'E3001', '批次不存在'));
    };
    const report = await adapter().getStatus('B1', ['E1']);
    expect(seen[0].headers['x-trans-code']).toBe('B2E0002');
    expect(report.transactions).toEqual([{ endToEndId: 'E1', outcome: 'unknown', bankStatus: '' }]);
  });

  test('status query: a closed account comes back as AC04', async () => {
    handler = (_req, _body, res) =>
      json(res, cnh2hBuildStatusResponse({ originalMessageId: 'B1', transactions: [{ endToEndId: 'E1', outcome: 'rejected', bankStatus: '1', reasonCode: 'AC04' }] }));
    expect((await adapter().getStatus('B1', ['E1'])).transactions[0]).toMatchObject({ outcome: 'rejected', reasonCode: 'AC04', bankStatus: '1' });
  });

  test('the NDJSON statement streams into the parser', async () => {
    handler = (_req, body, res) => {
      const q = cnh2hParseStatementQuery(body);
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const line of cnh2hBuildStatement({ ...header, account: q.account, date: q.date }, Array.from({ length: 500 }, (_, i) => statementEntry(i + 1)))) res.write(line);
      res.end();
    };
    const a = adapter();
    const stream = await a.fetchStatement({ account: trustAccount, date: '2025-02-28' });
    expect(seen[0].headers['x-trans-code']).toBe('B2E0003');
    let n = 0;
    const summary = await a.parseStatement(stream, () => {
      n += 1;
    });
    expect([n, summary.entryCount, summary.date]).toEqual([500, 500, '2025-02-28']);
  });

  test('a refused statement query is a clear error', async () => {
    handler = (_req, _body, res) => json(res, cnh2hBuildErrorResponse('B2E0003', 'x', 'E1001', '账户不存在'));
    await expect(adapter().fetchStatement({ account: '1', date: '2025-02-28' })).rejects.toThrow(/E1001/);
  });
});
