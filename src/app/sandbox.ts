// On the embedded default the sandbox bank runs beside the api and worker, and is registered
// as a deposit bank on first start, so a newcomer has a bank to pay into at once.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { freePort } from '../db/embedded';
import { createBank } from '../registry/service';
import { ensureDevPki } from '../pki/devPki';
import type { Runtime } from '../runtime';
import { appendAudit } from '../audit/service';
import { startSandboxBank } from '../sandbox-bank';

/** The development deposit bank: ICBC's head-office code, a trust account and a prefix for
 *  virtual sub-accounts. Production registers real banks with `POST /v1/banks`. */
export const devSandboxBank = {
  name: '沙箱银行 Sandbox Bank',
  bankCode: '102100099996',
  trustAccount: { number: '1001000000000000001', name: '公共资源交易中心投标保证金专户' },
  virtualAccountPrefix: '95588',
};

const systemCaller = { keyId: 'system', role: 'centre' as const };

export async function startEmbeddedSandbox(rt: Runtime, databaseUrl: string, apiUrl: string, log: Logger): Promise<{ url: string; bankId: string; close(): Promise<void> }> {
  const pki = ensureDevPki(path.join(rt.config.dataDir, 'pki'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const bankId = await rt.db.transaction(async (tx) => {
    const existing = await tx('banks').where({ virtual_account_prefix: devSandboxBank.virtualAccountPrefix }).first();
    if (existing) {
      if (existing.endpoint !== endpoint) {
        await tx('banks').where({ id: existing.id }).update({ endpoint });
        await appendAudit(tx, { actor: { type: 'system' }, action: 'bank.endpoint_changed', entityType: 'bank', entityId: existing.id, data: { endpoint } });
      }
      return existing.id as string;
    }
    const bank = await createBank(
      tx,
      systemCaller,
      { ...devSandboxBank, adapter: 'sandbox', endpoint, certificatePem: readFileSync(pki.sandboxCert, 'utf8') },
      rt.trustRoots,
    );
    return bank.id;
  });
  const sandbox = await startSandboxBank({
    port,
    host: '127.0.0.1',
    databaseUrl,
    notifyUrl: `${apiUrl}/v1/banks/${bankId}/notifications`,
    protocol: 'iso20022',
    trustAccount: { ...devSandboxBank.trustAccount, bankCode: devSandboxBank.bankCode },
    virtualPrefix: devSandboxBank.virtualAccountPrefix,
    dataDir: path.join(rt.config.dataDir, 'sandbox'),
    signingKeyPath: pki.sandboxKey,
    signingCertPath: pki.sandboxCert,
  });
  log.info({ url: sandbox.url, bankId }, 'sandbox bank listening');
  return { url: sandbox.url, bankId, close: () => sandbox.close() };
}
