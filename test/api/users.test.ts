// People in the console: signing in with a password, the session cookie on every /v1 route with
// the person's role, CSRF on every change, lock-out, disabling, both time-outs, signing out, and
// the audit log naming the person. Each test signs in from an address of its own (the app trusts
// X-Forwarded-For here), so the per-address limit of one never meets another's attempts.
import { randomInt } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { timingWith } from '../../src/timing';
import { createUser, disableUser, resetPassword, sessionRetentionMs, sweepEndedSessions } from '../../src/users/service';
import { hashSessionToken } from '../../src/users/sessions';
import { lockoutMs, signInAttemptsPerAddressPerMinute, signInFailuresBeforeLock } from '../../src/users/rules';
import { bearer, keyFor, startTestRuntime, testApp, uniqueUscc } from '../support/runtime';
import { DepositWorld, entry, jsonNotification, randomDigits } from './deposits.support';

let rt: Runtime;
let app: Express;
let auditorKey: string;
let centreKey: string;
const trustProxy = { BIDBOND_TRUST_PROXY: 'true' };
const operator = { type: 'operator' as const, id: 'users-test' };

beforeAll(async () => {
  rt = await startTestRuntime(trustProxy);
  app = testApp(rt);
  auditorKey = await keyFor(rt, 'auditor');
  centreKey = await keyFor(rt, 'centre');
});
afterAll(async () => {
  await rt.close();
});

const address = () => `10.${randomInt(256)}.${randomInt(256)}.${1 + randomInt(254)}`;
const newLogin = (role: string) => `${role}.${Date.now().toString(36)}${randomDigits(6)}`;
const password = () => `correct horse ${randomDigits(8)}`;

async function person(role: 'centre' | 'tenderee' | 'bidder' | 'auditor', ids: { tendereeId?: string; bidderId?: string } = {}, runtime = rt) {
  const login = newLogin(role);
  const pw = password();
  const user = await runtime.db.transaction((tx) => createUser(tx, operator, { login, role, password: pw, ...ids }));
  return { id: user.id, login, password: pw };
}

function signIn(login: string, pw: string, from = address(), on = app) {
  return request(on).post('/v1/session').set('X-Forwarded-For', from).send({ login, password: pw });
}

/** The session cookie's "name=value" from a sign-in's Set-Cookie. */
function cookieOf(res: request.Response): string {
  const header = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('bidbond_session='));
  expect(header).toBeDefined();
  return header!.split(';')[0];
}

async function session(role: 'centre' | 'tenderee' | 'bidder' | 'auditor', ids: { tendereeId?: string; bidderId?: string } = {}, on = app, runtime = rt) {
  const p = await person(role, ids, runtime);
  const res = await signIn(p.login, p.password, address(), on);
  expect(res.status).toBe(200);
  return { ...p, cookie: cookieOf(res), csrf: res.body.csrfToken as string };
}

async function auditOf(entityId: string, action: string) {
  const res = await request(app).get('/v1/audit').query({ entityType: 'user', entityId, action, limit: 100 }).set(bearer(auditorKey));
  expect(res.status).toBe(200);
  return res.body.data as { actor: { type: string; id: string | null }; data: Record<string, any> }[];
}

/** The answer without what differs on every request. */
const answer = (res: request.Response) => ({ status: res.status, body: { ...res.body, error: { ...res.body.error, requestId: undefined } }, retryAfter: res.headers['retry-after'] });

describe('POST /v1/session: signing in', () => {
  it('signs a person in: the cookie is HttpOnly, SameSite=Strict, the answer names the person and the CSRF token, GET /v1/session repeats it', async () => {
    const p = await person('centre');
    // Logins are compared without case.
    const res = await signIn(p.login.toUpperCase(), p.password);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'session', user: { id: p.id, login: p.login, role: 'centre' } });
    expect(res.body.user.tendereeId).toBeUndefined();
    expect(res.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const expiresIn = Date.parse(res.body.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(11.9 * 3600_000);
    expect(expiresIn).toBeLessThanOrEqual(12 * 3600_000);
    expect(Date.parse(res.body.idleExpiresAt) - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    expect(res.headers['cache-control']).toBe('no-store');
    const setCookie = ([] as string[]).concat(res.headers['set-cookie'])[0];
    expect(setCookie).toMatch(/^bidbond_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    const cookie = cookieOf(res);
    // The database keeps the token's hash, never the token.
    expect(await rt.db('sessions').where({ id: cookie.split('=')[1] }).first()).toBeUndefined();

    const again = await request(app).get('/v1/session').set('Cookie', cookie);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect((await request(app).get('/v1/sections').set('Cookie', cookie)).status).toBe(200);

    const signedIn = await auditOf(p.id, 'user.signed_in');
    expect(signedIn).toHaveLength(1);
    expect(signedIn[0].actor).toEqual({ type: 'centre', id: p.id });
  });

  it('answers a wrong password, an unknown login and a disabled account with one identical 401 invalid_credentials', async () => {
    const p = await person('centre');
    const gone = await person('centre');
    await rt.db.transaction((tx) => disableUser(tx, operator, gone.login));
    const wrong = await signIn(p.login, 'not the password at all');
    const unknown = await signIn(`nobody.${randomDigits(10)}`, 'not the password at all');
    const disabled = await signIn(gone.login, gone.password);
    expect(answer(wrong)).toEqual({ status: 401, body: { error: { type: 'authentication_error', code: 'invalid_credentials', message: 'the login or the password is wrong' } }, retryAfter: undefined });
    expect(answer(unknown)).toEqual(answer(wrong));
    expect(answer(disabled)).toEqual(answer(wrong));
    expect(unknown.headers['set-cookie']).toBeUndefined();

    const failed = await auditOf(p.id, 'user.sign_in_failed');
    expect(failed.map((e) => [e.data.reason, e.data.login, e.actor.type])).toEqual([['wrong_password', p.login, 'anonymous']]);
    const disabledFailed = await auditOf(gone.id, 'user.sign_in_failed');
    expect(disabledFailed.map((e) => e.data.reason)).toEqual(['disabled']);
  });

  it('records the login an unknown sign-in tried, once a minute per address with a count of the rest', async () => {
    const from = address();
    const tried = `stranger.${randomDigits(10)}`;
    for (let i = 0; i < 3; i++) expect((await signIn(`${tried}${i}`, 'whatever it is', from)).status).toBe(401);
    const events = (await request(app).get('/v1/audit').query({ action: 'user.sign_in_failed', limit: 100 }).set(bearer(auditorKey))).body.data.filter(
      (e: { data: { senderAddress: string } }) => e.data.senderAddress === from,
    );
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ reason: 'unknown_login', login: `${tried}0`, failures: { count: 1, byReason: { unknown_login: 1 } } });
    expect(events[0].entity).toEqual({ type: 'user', id: null });
  });

  it(`locks the account after ${signInFailuresBeforeLock} wrong passwords in a row (429 account_locked with Retry-After), even for the right one; a reset unlocks it`, async () => {
    const p = await person('bidder', { bidderId: (await new DepositWorld(rt, app, centreKey).bidder()).id });
    for (let i = 1; i < signInFailuresBeforeLock; i++) expect((await signIn(p.login, `wrong password ${i}`)).body.error.code).toBe('invalid_credentials');
    const locking = await signIn(p.login, 'wrong password again');
    expect([locking.status, locking.body.error.code]).toEqual([429, 'account_locked']);
    expect(Number(locking.headers['retry-after'])).toBeGreaterThan(lockoutMs / 1000 - 10);
    expect(Number(locking.headers['retry-after'])).toBeLessThanOrEqual(lockoutMs / 1000);
    const right = await signIn(p.login, p.password);
    expect([right.status, right.body.error.code]).toEqual([429, 'account_locked']);
    expect(right.headers['set-cookie']).toBeUndefined();

    const locked = await auditOf(p.id, 'user.locked');
    expect(locked).toHaveLength(1);
    expect((await auditOf(p.id, 'user.sign_in_failed')).filter((e) => e.data.reason === 'wrong_password')).toHaveLength(signInFailuresBeforeLock);

    const fresh = password();
    await rt.db.transaction((tx) => resetPassword(tx, operator, p.login, fresh));
    expect((await signIn(p.login, p.password)).body.error.code).toBe('invalid_credentials');
    const after = await signIn(p.login, fresh);
    expect(after.status).toBe(200);
    expect(after.body.user).toEqual({ id: p.id, login: p.login, role: 'bidder', bidderId: expect.stringMatching(/^bdr_/) });
  });

  it('counts wrong passwords sent at the same time, each of them', async () => {
    const p = await person('auditor');
    for (let i = 0; i < signInFailuresBeforeLock - 2; i++) expect((await signIn(p.login, `wrong ${i} password`)).status).toBe(401);
    const both = await Promise.all([signIn(p.login, 'wrong password A'), signIn(p.login, 'wrong password B')]);
    expect(both.map((r) => r.status).sort()).toEqual([401, 429]);
    expect((await signIn(p.login, p.password)).body.error.code).toBe('account_locked');
    expect(await auditOf(p.id, 'user.locked')).toHaveLength(1);
  });

  it(`limits sign-in attempts per address to ${signInAttemptsPerAddressPerMinute} a minute`, async () => {
    const from = address();
    const p = await person('centre');
    const answers: number[] = [];
    for (let i = 0; i <= signInAttemptsPerAddressPerMinute; i++) answers.push((await signIn(`nobody.${randomDigits(8)}`, 'wrong password', from)).status);
    expect(answers.slice(0, signInAttemptsPerAddressPerMinute).every((s) => s === 401)).toBe(true);
    const limited = await signIn(p.login, p.password, from);
    expect([limited.status, limited.body.error.code]).toEqual([429, 'rate_limited']);
    expect(limited.headers['retry-after']).toBeDefined();
    // Another address is not held back.
    expect((await signIn(p.login, p.password)).status).toBe(200);
  });

  it('refuses a malformed sign-in with 400 and nothing recorded', async () => {
    const from = address();
    const res = await request(app).post('/v1/session').set('X-Forwarded-For', from).send({ login: 'someone', password: 'x'.repeat(2000) });
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_field']);
    const extra = await request(app).post('/v1/session').set('X-Forwarded-For', from).send({ login: 'someone', password: 'long enough password', role: 'centre' });
    expect([extra.status, extra.body.error.code]).toEqual([400, 'unknown_field']);
    const events = (await request(app).get('/v1/audit').query({ action: 'user.sign_in_failed', limit: 100 }).set(bearer(auditorKey))).body.data;
    expect(events.filter((e: { data: { senderAddress: string } }) => e.data.senderAddress === from)).toEqual([]);
  });
});

describe('a session on the /v1 routes', () => {
  it('refuses a change without the CSRF token or with a wrong one (403, nothing done), accepts it with the right one and audits the person', async () => {
    const s = await session('centre');
    const send = (uscc: string) => request(app).post('/v1/tenderees').set('Cookie', s.cookie).send({ name: '某市交通运输局', uscc });
    const usccs = [uniqueUscc(), uniqueUscc()];
    const without = await send(usccs[0]);
    expect([without.status, without.body.error.code]).toEqual([403, 'csrf_token_invalid']);
    const wrong = await send(usccs[1]).set('X-CSRF-Token', s.csrf.slice(0, -1) + (s.csrf.endsWith('A') ? 'B' : 'A'));
    expect([wrong.status, wrong.body.error.code]).toEqual([403, 'csrf_token_invalid']);
    expect(await rt.db('tenderees').whereIn('uscc', usccs).select('id')).toEqual([]);

    const uscc = uniqueUscc();
    const ok = await send(uscc).set('X-CSRF-Token', s.csrf);
    expect(ok.status).toBe(201);
    const created = await request(app).get('/v1/audit').query({ entityType: 'tenderee', entityId: ok.body.id }).set(bearer(auditorKey));
    expect(created.body.data.map((e: { action: string; actor: unknown }) => [e.action, e.actor])).toEqual([['tenderee.created', { type: 'centre', id: s.id }]]);
  });

  it("gives a bidder's session its own deposit and 404 for another bidder's, as a key would", async () => {
    const w = new DepositWorld(rt, app, centreKey);
    const bank = await w.bank();
    const section = await w.section(bank.id);
    const [a, b] = [await w.bidder(), await w.bidder()];
    const va = await w.virtualAccount(section.id, a.id);
    const paid = await w.notify(bank, jsonNotification([entry(va, '50000.00', { name: a.account.name, number: a.account.number })]));
    expect(paid.status).toBe(200);
    const depositId = paid.body.depositIds[0];
    const owner = await session('bidder', { bidderId: a.id });
    const other = await session('bidder', { bidderId: b.id });
    const mine = await request(app).get(`/v1/deposits/${depositId}`).set('Cookie', owner.cookie);
    expect([mine.status, mine.body.bidderId]).toEqual([200, a.id]);
    const theirs = await request(app).get(`/v1/deposits/${depositId}`).set('Cookie', other.cookie);
    expect([theirs.status, theirs.body.error.code]).toEqual([404, 'not_found']);
    // A bidder's session is no centre's: centre-only routes do not exist for it.
    expect((await request(app).post('/v1/tenderees').set('Cookie', other.cookie).set('X-CSRF-Token', other.csrf).send({ name: 'x', uscc: uniqueUscc() })).status).toBe(404);
  });

  it('uses the API key when both a key and a cookie come, and refuses a cookie that names no session', async () => {
    const s = await session('centre');
    const bidderKey = await keyFor(rt, 'bidder', { bidderId: (await new DepositWorld(rt, app, centreKey).bidder()).id });
    expect((await request(app).get('/v1/audit').set('Cookie', s.cookie).set(bearer(bidderKey))).status).toBe(404);
    const unknown = await request(app).get('/v1/sections').set('Cookie', `bidbond_session=${'A'.repeat(43)}`);
    expect([unknown.status, unknown.body.error.code]).toEqual([401, 'session_expired']);
    expect(String(unknown.headers['set-cookie'])).toMatch(/^bidbond_session=; Path=\/; Max-Age=0/);
    const malformed = await request(app).get('/v1/sections').set('Cookie', 'theme=dark; bidbond_session=not-a-token');
    expect([malformed.status, malformed.body.error.code]).toEqual([401, 'not_signed_in']);
    const none = await request(app).get('/v1/sections');
    expect([none.status, none.body.error.code]).toEqual([401, 'missing_api_key']);
    expect((await request(app).get('/v1/session')).body.error.code).toBe('not_signed_in');
  });

  it('ends the sessions of a disabled person at once, and of one whose password is reset', async () => {
    const s = await session('auditor');
    expect((await request(app).get('/v1/audit/verify').set('Cookie', s.cookie)).status).toBe(200);
    await rt.db.transaction((tx) => disableUser(tx, operator, s.login));
    const after = await request(app).get('/v1/audit?limit=1').set('Cookie', s.cookie);
    expect([after.status, after.body.error.code]).toEqual([401, 'session_expired']);
    expect((await auditOf(s.id, 'user.disabled'))[0].actor).toEqual(operator);

    const r = await session('centre');
    await rt.db.transaction((tx) => resetPassword(tx, operator, r.login, password()));
    expect((await request(app).get('/v1/session').set('Cookie', r.cookie)).body.error.code).toBe('session_expired');
    expect((await auditOf(r.id, 'user.password_reset'))[0].data).toMatchObject({ sessionsRevoked: 1 });
  });

  it('signs out: CSRF required, 204, the cookie cleared, the session over and the sign-out audited', async () => {
    const s = await session('tenderee', { tendereeId: await new DepositWorld(rt, app, centreKey).tenderee() });
    const refused = await request(app).delete('/v1/session').set('Cookie', s.cookie);
    expect([refused.status, refused.body.error.code]).toEqual([403, 'csrf_token_invalid']);
    expect((await request(app).get('/v1/session').set('Cookie', s.cookie)).status).toBe(200);
    const out = await request(app).delete('/v1/session').set('Cookie', s.cookie).set('X-CSRF-Token', s.csrf);
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^bidbond_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/);
    expect((await request(app).get('/v1/session').set('Cookie', s.cookie)).body.error.code).toBe('session_expired');
    expect((await request(app).get('/v1/sections').set('Cookie', s.cookie)).status).toBe(401);
    // Signing out again is no error.
    expect((await request(app).delete('/v1/session').set('Cookie', s.cookie)).status).toBe(204);
    const events = await auditOf(s.id, 'user.signed_out');
    expect(events.map((e) => e.actor)).toEqual([{ type: 'tenderee', id: s.id }]);
  });

  it('forgets ended sessions after the retention period, and keeps live ones', async () => {
    const ended = await session('centre');
    const live = await session('centre');
    expect((await request(app).delete('/v1/session').set('Cookie', ended.cookie).set('X-CSRF-Token', ended.csrf)).status).toBe(204);
    const rowOf = (s: { cookie: string }) => rt.db('sessions').where({ id: hashSessionToken(s.cookie.split('=')[1]) }).first();
    expect(await rowOf(ended)).toBeDefined();
    await sweepEndedSessions(rt.db, new Date(Date.now() + sessionRetentionMs + 60_000));
    expect(await rowOf(ended)).toBeUndefined();
    expect(await rowOf(live)).toBeDefined();
    expect((await request(app).get('/v1/session').set('Cookie', live.cookie)).status).toBe(200);
    // The sign-in and sign-out stay in the audit log.
    expect(await auditOf(ended.id, 'user.signed_out')).toHaveLength(1);
  });
});

describe('session time-outs', () => {
  let short: Runtime;
  let shortApp: Express;
  // Wide enough that a request slowed by a loaded machine (up to a second or so) does not end a
  // session that is in use, and the used session stays well within the absolute time-out.
  const idleMs = 2_000;
  const absoluteMs = 5_000;
  beforeAll(async () => {
    short = await startTestRuntime(trustProxy, { timing: timingWith({ sessions: { idleTimeoutMs: idleMs, absoluteTimeoutMs: absoluteMs, lastSeenRefreshMs: 100 } }) });
    shortApp = testApp(short);
  });
  afterAll(async () => {
    await short.close();
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('ends a session left unused for the idle time-out; use keeps it going', async () => {
    const idle = await session('centre', {}, shortApp, short);
    const used = await session('centre', {}, shortApp, short);
    for (let i = 0; i < 5; i++) {
      await sleep(idleMs / 4);
      expect((await request(shortApp).get('/v1/sections').set('Cookie', used.cookie)).status).toBe(200);
    }
    // Reading the session is no use: a console polling it does not keep it alive.
    const res = await request(shortApp).get('/v1/session').set('Cookie', idle.cookie);
    expect([res.status, res.body.error.code]).toEqual([401, 'session_expired']);
    expect((await request(shortApp).get('/v1/sections').set('Cookie', idle.cookie)).body.error.code).toBe('session_expired');
    expect((await request(shortApp).get('/v1/session').set('Cookie', used.cookie)).status).toBe(200);
  });

  it('ends a session at the absolute time-out however much it is used', async () => {
    // The session starts between these two moments (a sign-in on a loaded machine can take a
    // while): used until shortly before its earliest possible end, tried after its latest.
    const asked = Date.now();
    const s = await session('centre', {}, shortApp, short);
    const signedIn = Date.now();
    while (Date.now() - asked < absoluteMs - 600) {
      expect((await request(shortApp).get('/v1/sections').set('Cookie', s.cookie)).status).toBe(200);
      await sleep(300);
    }
    await sleep(Math.max(0, absoluteMs + 100 - (Date.now() - signedIn)));
    const res = await request(shortApp).get('/v1/sections').set('Cookie', s.cookie);
    expect([res.status, res.body.error.code]).toEqual([401, 'session_expired']);
  });
});
