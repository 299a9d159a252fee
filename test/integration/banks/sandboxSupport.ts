// Shared by the sandbox bank's tests: a bank on a free port with its own schema in the run's
// test database, a small node:http receiver playing the service's notification endpoint, and
// JSON helpers for the customer API.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startSandboxBank, type SandboxBank, type SandboxConfigInput } from '../../../src/sandbox-bank';
import { checkMessageSignature } from '../../../src/pki/messageSignature';
export { waitFor } from '../../support/wait';

export const isoDir = path.resolve(__dirname, '../../fixtures/iso20022');
export const trustNumber = '110060123450001';
export const trustName = '某市公共资源交易中心投标保证金专户';
export const sandboxBankCode = '102100099996';
export const virtualPrefix = '95588';
/** Another bank the sandbox also holds customers at, and one it never does. */
export const otherBankCode = '103100000026';
export const externalBankCode = '105100000017';

/** One data directory (dev PKI) per test process: keys are made once, never raced. */
const dataDir = path.join(os.tmpdir(), `bidbond-sandbox-test-${process.pid}`);

export function uniqueSchema(): string {
  return `sandbox_t_${randomBytes(5).toString('hex')}`;
}

export function uniqueNumber(prefix = '6222'): string {
  return `${prefix}${BigInt(`0x${randomBytes(6).toString('hex')}`).toString().padStart(15, '0').slice(0, 15)}`;
}

export async function startTestBank(overrides: Partial<SandboxConfigInput> = {}): Promise<SandboxBank> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is set by test/support/globalSetup');
  return startSandboxBank({
    port: 0,
    databaseUrl,
    schema: uniqueSchema(),
    dataDir,
    trustAccount: { number: trustNumber, name: trustName, bankCode: sandboxBankCode },
    virtualPrefix,
    settleDelayMs: 100,
    lostStatusMs: 1_000,
    timeoutHangMs: 5_000,
    notify: { backoffBaseMs: 20, backoffMaxMs: 200, attemptsMax: 4, requestTimeoutMs: 2_000 },
    ...overrides,
  });
}

export interface ApiResult<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export async function api<T = any>(bank: { url: string }, method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResult<T>> {
  const res = await fetch(`${bank.url}${pathname}`, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

export async function postXml(bank: { url: string }, pathname: string, xml: string, timeoutMs?: number): Promise<{ status: number; text: string }> {
  const res = await fetch(`${bank.url}${pathname}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/xml' },
    body: xml,
    signal: timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined,
  });
  return { status: res.status, text: await res.text() };
}

export async function openAccount(bank: { url: string }, number: string, name: string, balance: string, bankCode = otherBankCode) {
  const res = await api(bank, 'POST', '/sandbox/accounts', { number, name, bankCode, balance });
  if (res.status !== 201 && res.status !== 200) throw new Error(`open account ${number}: ${res.status} ${res.text}`);
  return res.body;
}

export async function balanceOf(bank: { url: string }, number: string): Promise<string> {
  const res = await api(bank, 'GET', `/sandbox/accounts/${number}`);
  if (res.status !== 200) throw new Error(`account ${number}: ${res.status} ${res.text}`);
  return res.body.balance;
}


export interface ReceivedNotification {
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
  answeredStatus: number;
}

/** Plays the service's POST /v1/banks/:id/notifications: records every request and answers
 *  with the next status from `statuses` (then 200). */
export class NotificationReceiver {
  readonly received: ReceivedNotification[] = [];
  statuses: number[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.statuses.length ? this.statuses.shift()! : 200;
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks), at: Date.now(), answeredStatus: status });
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: status < 300 }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/banks/bnk_test/notifications`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Null when the request is signed by the certificate, or the reason it is not. */
  signatureProblem(n: ReceivedNotification, certificatePem: string): string | null {
    return checkMessageSignature(
      { timestamp: n.headers['bidbond-timestamp'] as string, signature: n.headers['bidbond-signature'] as string },
      n.body,
      certificatePem,
    );
  }
}

/** Validates XML against one of the shared ISO 20022 schemas with xmllint; throws with
 *  xmllint's message when it does not. */
export function assertValidXml(xml: string, message: string): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bidbond-xsd-'));
  const file = path.join(dir, `${message}.xml`);
  writeFileSync(file, xml);
  execFileSync('xmllint', ['--noout', '--schema', path.join(isoDir, 'xsd', `${message}.xsd`), file], { stdio: 'pipe' });
}

export function todayInShanghai(): string {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
}
