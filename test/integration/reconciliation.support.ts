// A deposit bank of its own for each reconciliation test: the sandbox bank over HTTP with its
// own trust account and prefix, notifying the app through a relay the test can tell to drop
// notifications (money moved behind the service's back).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { startSandboxBank, type SandboxBank } from '../../src/sandbox-bank';
import { ensureDevPki } from '../../src/pki/devPki';
import { issueCertificate } from '../../src/pki/certs';
import { bearer, testDataDir, uniqueUscc } from '../support/runtime';
import { freePort } from '../../src/db/embedded';
export { freePort };
export { waitFor } from '../support/wait';

export const customerBankCode = '103100000026';
export const trustBankCode = '102100099996';

export const digits = (n: number) => {
  let s = String(1 + randomInt(9));
  while (s.length < n) s += String(randomInt(10));
  return s;
};



/** Forwards the sandbox's notifications to the app, or swallows them (answering 200, so the
 *  bank believes it delivered) while `drop` is set. */
export class NotificationRelay {
  drop = false;
  dropped = 0;
  private server?: Server;
  url = '';
  constructor(private readonly appUrl: string) {}
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', async () => {
        if (this.drop) {
          this.dropped += 1;
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
        try {
          const answer = await fetch(`${this.appUrl}${req.url}`, { method: req.method, headers, body: Buffer.concat(parts) });
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
        } catch {
          res.writeHead(502).end();
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }
  async close(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}

export interface BankWorld {
  bankId: string;
  trustNumber: string;
  prefix: string;
  sandbox: SandboxBank;
  bankApi: (method: string, pathname: string, body?: unknown) => Promise<any>;
}

export async function startBankWorld(app: Express, centre: string, relay: NotificationRelay): Promise<BankWorld> {
  // Each bank its own signing certificate from the development root (a certificate is
  // registered to one bank only).
  const pki = ensureDevPki(path.join(testDataDir(), 'pki'));
  const signer = issueCertificate({ commonName: `reconciliation bank ${digits(6)}`, ca: { keyPem: readFileSync(pki.rootKey, 'utf8'), certPem: readFileSync(pki.rootCert, 'utf8') } });
  const dir = path.join(testDataDir(), `rc-bank-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'key.pem'), signer.keyPem);
  writeFileSync(path.join(dir, 'cert.pem'), signer.certPem);
  const certPem = signer.certPem;
  const port = await freePort();
  const trustNumber = `120${digits(12)}`;
  const prefix = digits(9);
  const bank = await request(app).post('/v1/banks').set(bearer(centre)).send({
    name: '对账测试银行', bankCode: trustBankCode, adapter: 'sandbox', endpoint: `http://127.0.0.1:${port}`, certificatePem: certPem,
    trustAccount: { number: trustNumber, name: '公共资源交易中心投标保证金专户' }, virtualAccountPrefix: prefix,
  });
  if (bank.status !== 201) throw new Error(`bank: ${bank.status} ${JSON.stringify(bank.body)}`);
  const bankId = bank.body.id as string;
  const sandbox = await startSandboxBank({
    port, databaseUrl: process.env.DATABASE_URL!, schema: `sandbox_rc_${randomBytes(5).toString('hex')}`, dataDir: path.join(testDataDir(), 'sandbox'),
    signingKeyPath: path.join(dir, 'key.pem'), signingCertPath: path.join(dir, 'cert.pem'),
    trustAccount: { number: trustNumber, name: '公共资源交易中心投标保证金专户', bankCode: trustBankCode }, virtualPrefix: prefix,
    notifyUrl: `${relay.url}/v1/banks/${bankId}/notifications`, settleDelayMs: 50,
    notify: { backoffBaseMs: 50, backoffMaxMs: 500, attemptsMax: 20, requestTimeoutMs: 5_000 },
  });
  const bankApi = async (method: string, pathname: string, body?: unknown) => {
    const res = await fetch(`${sandbox.url}${pathname}`, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${pathname}: ${res.status} ${text}`);
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  return { bankId, trustNumber, prefix, sandbox, bankApi };
}

/** A section at this bank and a bidder with a virtual sub-account and money in its basic account. */
export async function bidderWithSubAccount(app: Express, centre: string, world: BankWorld, opts: { deadline?: Date } = {}) {
  const tendereeId = (await request(app).post('/v1/tenderees').set(bearer(centre)).send({ name: '某市住房和城乡建设局', uscc: uniqueUscc() })).body.id;
  const section = await request(app).post('/v1/sections').set(bearer(centre)).send({
    projectCode: `P-${digits(8)}`, sectionCode: `S-${digits(6)}`, name: '市政道路工程一标段', tendereeId, regime: 'tendering_law', estimatedPrice: '5000000.00',
    depositAmount: '50000.00', currency: 'CNY', bidDeadline: (opts.deadline ?? new Date(Date.now() + 86400e3)).toISOString(), bidValidityDays: 90,
    depositBankId: world.bankId, acceptedSecurity: ['cash'],
  });
  if (section.status !== 201) throw new Error(`section: ${section.status} ${JSON.stringify(section.body)}`);
  const name = `建工集团${digits(4)}有限公司`;
  const number = `62${digits(16)}`;
  await world.bankApi('POST', '/sandbox/accounts', { number, name, bankCode: customerBankCode, balance: '200000.00' });
  const b = await request(app).post('/v1/bidders').set(bearer(centre)).send({ name, uscc: uniqueUscc(), basicAccount: { bankCode: customerBankCode, number, name } });
  const va = (await request(app).post(`/v1/sections/${section.body.id}/deposit-accounts`).set(bearer(centre)).send({ bidderId: b.body.id })).body.virtualAccount as string;
  return { sectionId: section.body.id as string, bidderId: b.body.id as string, account: number, virtualAccount: va };
}
