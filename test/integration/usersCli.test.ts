// `bidbond users` as an operator runs it: a separate process, the password on standard input,
// one line of result, a clear message and a non-zero exit on every refusal; what it did is seen
// through the API (signing in) and the audit log.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { bankCode, bearer, keyFor, startTestRuntime, testApp, testDataDir, uniqueUscc } from '../support/runtime';

const bin = path.resolve(__dirname, '../../bin/bidbond.js');
let rt: Runtime;
let app: Express;
let centre: string;
let auditor: string;

function bidbond(args: string[], input = '') {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, BIDBOND_DATA_DIR: testDataDir(), LOG_LEVEL: 'silent', USER: 'ops-li' })) if (v !== undefined) env[k] = v;
  return spawnSync(process.execPath, [bin, ...args], { env, input, encoding: 'utf8', timeout: 60_000 });
}

beforeAll(async () => {
  rt = await startTestRuntime({ BIDBOND_TRUST_PROXY: 'true' });
  app = testApp(rt);
  centre = await keyFor(rt, 'centre');
  auditor = await keyFor(rt, 'auditor');
});
afterAll(async () => {
  await rt.close();
});

const login = (role: string) => `${role}.cli.${Date.now().toString(36)}${randomInt(1e6)}`;
const signIn = (name: string, password: string) =>
  request(app).post('/v1/session').set('X-Forwarded-For', `10.9.${randomInt(256)}.${1 + randomInt(254)}`).send({ login: name, password });

async function audit(entityId: string) {
  const res = await request(app).get('/v1/audit').query({ entityType: 'user', entityId }).set(bearer(auditor));
  return res.body.data as { action: string; actor: { type: string; id: string } }[];
}

async function bidder(): Promise<string> {
  const account = { bankCode: bankCode('102', '1000', String(1000 + randomInt(9000))), number: `62${randomInt(1e9)}${randomInt(1e8)}`, name: '建工集团命令行有限公司' };
  const res = await request(app).post('/v1/bidders').set(bearer(centre)).send({ name: account.name, uscc: uniqueUscc(), basicAccount: account });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('bidbond users', () => {
  it('create makes a user from the first line of standard input, prints one line, and the person can sign in', async () => {
    const bidderId = await bidder();
    const name = login('bidder');
    const r = bidbond(['users', 'create', '--role', 'bidder', '--bidder', bidderId, '--login', name], 'first line is the password\nsecond line is not\n');
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(new RegExp(`^created usr_[0-9a-z]{26} ${name.replace(/\./g, '\\.')} \\(bidder for ${bidderId}\\)\\n$`));
    const id = r.stdout.split(' ')[1];
    const res = await signIn(name, 'first line is the password');
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({ id, login: name, role: 'bidder', bidderId });
    expect((await audit(id)).find((e) => e.action === 'user.created')?.actor).toEqual({ type: 'operator', id: 'ops-li' });
  });

  it('create refuses a short password, a taken login (whatever its case), an unknown bidder and a bidder user without one, storing nothing', async () => {
    const name = login('centre');
    const short = bidbond(['users', 'create', '--role', 'centre', '--login', name], 'short\n');
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/at least 10 characters/);
    expect(await rt.db('users').whereRaw('lower(login) = lower(?)', [name]).first()).toBeUndefined();

    expect(bidbond(['users', 'create', '--role', 'centre', '--login', name], 'a good long password\n').status).toBe(0);
    const taken = bidbond(['users', 'create', '--role', 'auditor', '--login', name.toUpperCase()], 'a good long password\n');
    expect(taken.status).toBe(1);
    expect(taken.stderr).toMatch(/^bidbond: login_taken: the login .* is taken/);

    const unknown = bidbond(['users', 'create', '--role', 'bidder', '--bidder', 'bdr_01m8dhwtfqcpm4m4frb35syc6b', '--login', login('bidder')], 'a good long password\n');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/no bidder bdr_01m8dhwtfqcpm4m4frb35syc6b/);
    const missing = bidbond(['users', 'create', '--role', 'bidder', '--login', login('bidder')], 'a good long password\n');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/bidder_required/);
    const badRole = bidbond(['users', 'create', '--role', 'admin', '--login', login('x')], 'a good long password\n');
    expect(badRole.status).not.toBe(0);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it('reset-password sets the new password, unlocks the account and ends its sessions', async () => {
    const name = login('auditor');
    const created = bidbond(['users', 'create', '--role', 'auditor', '--login', name], 'the first password\n');
    expect(created.status).toBe(0);
    const id = created.stdout.split(' ')[1];
    const session = await signIn(name, 'the first password');
    const cookie = String(session.headers['set-cookie']).split(';')[0];
    for (let i = 0; i < 5; i++) await signIn(name, `wrong password ${i}`);
    expect((await signIn(name, 'the first password')).body.error.code).toBe('account_locked');

    const r = bidbond(['users', 'reset-password', name.toUpperCase()], 'the second password\n');
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(`reset the password of ${id} ${name}; unlocked; 1 session ended\n`);
    expect((await request(app).get('/v1/audit/verify').set('Cookie', cookie)).body.error.code).toBe('session_expired');
    expect((await signIn(name, 'the first password')).status).toBe(401);
    expect((await signIn(name, 'the second password')).status).toBe(200);
    expect((await audit(id)).find((e) => e.action === 'user.password_reset')?.actor).toEqual({ type: 'operator', id: 'ops-li' });

    const nobody = bidbond(['users', 'reset-password', 'nobody.at.all'], 'the second password\n');
    expect(nobody.status).toBe(1);
    expect(nobody.stderr).toMatch(/no user nobody\.at\.all/);
    const empty = bidbond(['users', 'reset-password', name], '');
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/no password on standard input/);
  });

  it('disable stops the person signing in and ends their sessions at once; twice is refused', async () => {
    const name = login('centre');
    const id = bidbond(['users', 'create', '--role', 'centre', '--login', name], 'centre clerk password\n').stdout.split(' ')[1];
    const session = await signIn(name, 'centre clerk password');
    const cookie = String(session.headers['set-cookie']).split(';')[0];
    expect((await request(app).get('/v1/sections').set('Cookie', cookie)).status).toBe(200);

    const r = bidbond(['users', 'disable', name]);
    expect([r.status, r.stdout]).toEqual([0, `disabled ${id} ${name}; 1 session ended\n`]);
    expect((await request(app).get('/v1/sections').set('Cookie', cookie)).body.error.code).toBe('session_expired');
    expect((await signIn(name, 'centre clerk password')).body.error.code).toBe('invalid_credentials');
    expect((await audit(id)).find((e) => e.action === 'user.disabled')?.actor).toEqual({ type: 'operator', id: 'ops-li' });

    const again = bidbond(['users', 'disable', name]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/user_disabled/);
  });
});
