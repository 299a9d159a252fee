import type { Runtime } from '../../src/runtime';
import { statementCron, statementSchedulerId, sweepStatements } from '../../src/reconciliation/jobs';
import { startTestRuntime } from '../support/runtime';
import { newId } from '../../src/domain/ids';

let rt: Runtime;
beforeAll(async () => {
  rt = await startTestRuntime({ BIDBOND_STATEMENT_TIME: '06:30' });
});
afterAll(async () => {
  await rt.close();
});

describe('statement schedule', () => {
  it('turns the configured Shanghai time into a daily cron pattern', () => {
    expect(statementCron('06:30')).toBe('30 6 * * *');
    expect(statementCron('23:05')).toBe('5 23 * * *');
    expect(() => statementCron('24:00')).toThrow();
  });

  it('keeps one job scheduler per deposit bank, at the configured time in Asia/Shanghai', async () => {
    const bank = { id: newId('bnk') };
    await rt.db('banks').insert({
      id: bank.id, name: 'schedule test bank', bank_code: '102100099996', adapter: 'iso20022', endpoint: 'http://127.0.0.1:9/',
      trust_account_number: '1100000000001', trust_account_name: '专户', virtual_account_prefix: String(Date.now()).slice(-12),
    });
    await sweepStatements(rt);
    await sweepStatements(rt);
    const schedulers = await rt.queues.statements.getJobSchedulers(0, -1);
    const mine = schedulers.filter((s) => s.key === statementSchedulerId(bank.id));
    expect(mine).toHaveLength(1);
    expect(mine[0].pattern).toBe('30 6 * * *');
    expect(mine[0].tz).toBe('Asia/Shanghai');
  });
});
