// A small world for guarantee tests: issuers with certificates under the dev root, a tenderee,
// bidders and sections, and signed webhook calls.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { ensureDevPki } from '../../src/pki/devPki';
import { issueCertificate } from '../../src/pki/certs';
import { signMessage } from '../../src/pki/messageSignature';
import { toBusinessDate, addCalendarDays } from '../../src/domain/time';
import { bankCode, bearer, keyFor, testDataDir, uniqueUscc } from '../support/runtime';

export const dayMs = 24 * 3600 * 1000;

export interface TestIssuer {
  id: string;
  kind: 'bank' | 'insurance' | 'guarantor';
  bankCode: string | null;
  keyPem: string;
  fingerprint: string;
}

export function devCa() {
  const p = ensureDevPki(path.join(testDataDir(), 'pki'));
  return { keyPem: readFileSync(p.rootKey, 'utf8'), certPem: readFileSync(p.rootCert, 'utf8') };
}

export function newCert(opts: { notBefore?: Date; notAfter?: Date; selfSigned?: boolean } = {}) {
  return issueCertificate({ commonName: `issuer-${randomBytes(4).toString('hex')}`, ca: opts.selfSigned ? undefined : devCa(), notBefore: opts.notBefore, notAfter: opts.notAfter });
}

let seq = 0;
export const unique = (p: string) => `${p}-${Date.now().toString(36)}-${(seq++).toString(36)}-${randomBytes(2).toString('hex')}`;

export class World {
  centre = '';
  constructor(readonly rt: Runtime, readonly app: Express) {}

  async init() {
    this.centre = await keyFor(this.rt, 'centre');
    return this;
  }

  async issuer(kind: TestIssuer['kind'] = 'bank', opts: { bankCode?: string; callbackUrl?: string } = {}): Promise<TestIssuer> {
    const cert = newCert();
    const code = kind === 'bank' ? (opts.bankCode ?? bankCode('102', '1000', String(1000 + (seq++ % 9000)))) : undefined;
    const res = await request(this.app).post('/v1/issuers').set(bearer(this.centre))
      .send({ name: `${kind} issuer`, kind, bankCode: code, certificatePem: cert.certPem, callbackUrl: opts.callbackUrl });
    if (res.status !== 201) throw new Error(`issuer: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.id, kind, bankCode: code ?? null, keyPem: cert.keyPem, fingerprint: cert.fingerprint };
  }

  async tenderee() {
    const uscc = uniqueUscc();
    const res = await request(this.app).post('/v1/tenderees').set(bearer(this.centre)).send({ name: '某市住建局', uscc });
    if (res.status !== 201) throw new Error(`tenderee: ${JSON.stringify(res.body)}`);
    return { id: res.body.id as string, uscc, name: '某市住建局' };
  }

  async bidder(basicBankCode = bankCode('102', '1000', '0001')) {
    const uscc = uniqueUscc();
    const res = await request(this.app).post('/v1/bidders').set(bearer(this.centre))
      .send({ name: '甲建设有限公司', uscc, basicAccount: { bankCode: basicBankCode, number: '6222020200001234567', name: '甲建设有限公司' } });
    if (res.status !== 201) throw new Error(`bidder: ${JSON.stringify(res.body)}`);
    return { id: res.body.id as string, uscc, name: '甲建设有限公司', bankCode: basicBankCode };
  }

  async section(tendereeId: string, opts: { accepted?: string[]; depositAmount?: string; match?: 'bank' | 'branch' | 'off'; deadline?: Date; validityDays?: number } = {}) {
    const deadline = opts.deadline ?? new Date(Date.now() + 10 * dayMs);
    const res = await request(this.app).post('/v1/sections').set(bearer(this.centre)).send({
      projectCode: unique('P'), sectionCode: unique('S'), name: '某道路工程一标段', tendereeId, regime: 'tendering_law',
      estimatedPrice: '10000000.00', depositAmount: opts.depositAmount ?? '50000.00', currency: 'CNY',
      bidDeadline: deadline.toISOString(), bidValidityDays: opts.validityDays ?? 90,
      acceptedSecurity: opts.accepted ?? ['bank', 'insurance', 'guarantor'], guaranteeBankMatch: opts.match ?? 'bank',
    });
    if (res.status !== 201) throw new Error(`section: ${JSON.stringify(res.body)}`);
    return res.body as { id: string; projectCode: string; sectionCode: string; bidDeadline: string; bidValidityDays: number };
  }

  /** A world with one issuer, one tenderee, one bidder at the issuer's bank, one section. */
  async scene(kind: TestIssuer['kind'] = 'bank', sectionOpts: Parameters<World['section']>[1] = {}, issuerOpts: { callbackUrl?: string } = {}) {
    const issuer = await this.issuer(kind, issuerOpts);
    const tenderee = await this.tenderee();
    const bidder = await this.bidder(kind === 'bank' ? issuer.bankCode! : undefined);
    const section = await this.section(tenderee.id, sectionOpts);
    return { issuer, tenderee, bidder, section };
  }

  issuance(scene: Awaited<ReturnType<World['scene']>>, over: Record<string, unknown> = {}) {
    const deadlineDate = toBusinessDate(scene.section.bidDeadline);
    return {
      eventId: unique('evt'),
      number: unique('BG'),
      kind: scene.issuer.kind,
      applicant: { uscc: scene.bidder.uscc, name: scene.bidder.name },
      beneficiary: { uscc: scene.tenderee.uscc, name: scene.tenderee.name },
      projectCode: scene.section.projectCode,
      sectionCode: scene.section.sectionCode,
      amount: '50000.00',
      currency: 'CNY',
      validFrom: toBusinessDate(new Date()),
      validTo: addCalendarDays(deadlineDate, scene.section.bidValidityDays + 30),
      issuedAt: new Date(Date.now() - 60_000).toISOString(),
      documentSha256: randomBytes(32).toString('hex'),
      ...over,
    };
  }

  signed(pathname: string, body: unknown, signer: { keyPem: string; fingerprint: string }, opts: { now?: Date; raw?: Buffer } = {}) {
    const raw = opts.raw ?? Buffer.from(JSON.stringify(body));
    return request(this.app).post(pathname).set('Content-Type', 'application/json').set(signMessage(raw, signer, opts.now)).send(raw.toString('utf8'));
  }

  issue(issuer: TestIssuer, body: unknown, opts: { now?: Date } = {}) {
    return this.signed(`/v1/issuers/${issuer.id}/guarantees`, body, issuer, opts);
  }

  event(issuer: TestIssuer, number: string, body: Record<string, unknown>) {
    return this.signed(`/v1/issuers/${issuer.id}/guarantees/${number}/events`, { eventId: unique('evt'), ...body }, issuer);
  }
}
