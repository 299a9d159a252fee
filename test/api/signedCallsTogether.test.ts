// Signed calls that arrive while the service is reading a certificate wait for that read, and
// their certificates are then read in one statement (http/webhookAuth.ts): each call is still
// judged on its own certificate, and a read that fails is the failure of its own calls only. On a
// database of its own, because the test holds the certificates table to make the calls arrive
// during one read.
import { Client } from 'pg';
import type request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { startTestRuntime, testApp } from '../support/runtime';
import { createIsolatedDatabase, type IsolatedDatabase } from '../support/isolatedDatabase';
import { newCert, World } from './guaranteesFixtures';
import { certificateReadsPerStatementMax } from '../../src/http/webhookAuth';

let isolated: IsolatedDatabase;
let rt: Runtime;
let app: Express;
let w: World;

beforeAll(async () => {
  isolated = await createIsolatedDatabase('signedtogether');
  rt = await startTestRuntime({ ...isolated.env });
  app = testApp(rt);
  w = await new World(rt, app).init();
});
afterAll(async () => {
  await rt?.close();
  await isolated?.drop();
});

/** Sends the request now (supertest sends one when it is first awaited). */
const send = (r: request.Test): Promise<request.Response> => r.then((res) => res);

const until = async (what: () => boolean | Promise<boolean>, ms = 10_000) => {
  for (const end = Date.now() + ms; !(await what()); ) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

it('are each judged on their own certificate, read in one statement with the others that arrived meanwhile', async () => {
  const scenes = await Promise.all([0, 1, 2, 3].map(() => w.scene('insurance')));
  const stranger = newCert();
  const other = scenes[1].issuer;
  const reads: string[] = [];
  const listen = (q: { sql: string }) => {
    if (/FROM certificates WHERE fingerprint/.test(q.sql)) reads.push(q.sql);
  };
  // The first call's read waits behind this lock; the others arrive meanwhile.
  const holder = new Client({ connectionString: isolated.url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE certificates IN ACCESS EXCLUSIVE MODE');
  rt.db.on('query', listen);
  let answers: request.Response[];
  try {
    const first = send(w.issue(scenes[0].issuer, w.issuance(scenes[0])));
    await until(() => reads.length === 1);
    const rest = [
      ...scenes.slice(1).map((sc) => send(w.issue(sc.issuer, w.issuance(sc)))),
      send(w.issue({ ...scenes[0].issuer, keyPem: stranger.keyPem, fingerprint: stranger.fingerprint }, w.issuance(scenes[0]))),
      send(w.issue({ ...scenes[2].issuer, keyPem: other.keyPem, fingerprint: other.fingerprint }, w.issuance(scenes[2]))),
    ];
    // Every call has reached the service before the lock is let go.
    await new Promise((r) => setTimeout(r, 1000));
    expect(reads).toHaveLength(1);
    await holder.query('COMMIT');
    answers = await Promise.all([first, ...rest]);
  } finally {
    rt.db.off('query', listen);
    await holder.end();
  }
  expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 401, 401]);
  expect(answers.slice(4).map((a) => a.body.error.code)).toEqual(['certificate_unknown', 'certificate_sender_mismatch']);
  // The first call's read, then one for the five that waited.
  expect(reads).toHaveLength(2);
});

it('answers the calls of a read that fails with 500 and nothing recorded, and reads the calls that waited behind it next', async () => {
  const scenes = await Promise.all([0, 1, 2].map(() => w.scene('insurance')));
  const bodies = scenes.map((sc) => w.issuance(sc));
  const holder = new Client({ connectionString: isolated.url });
  const observer = new Client({ connectionString: isolated.url });
  await holder.connect();
  await observer.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE certificates IN ACCESS EXCLUSIVE MODE');
  try {
    const first = send(w.issue(scenes[0].issuer, bodies[0]));
    // The first call's read, waiting for the lock, as PostgreSQL lists it: asked outside the
    // holder's transaction, which would see the activity as it was when it first looked.
    const waitingRead = async () =>
      (await observer.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM certificates WHERE fingerprint%'`)).rows as { pid: number }[];
    await until(async () => (await waitingRead()).length === 1);
    const rest = scenes.slice(1).map((sc, i) => send(w.issue(sc.issuer, bodies[i + 1])));
    await new Promise((r) => setTimeout(r, 500));
    // The read fails (here cancelled, as a database restarting or a statement timeout would end it).
    const [{ pid }] = await waitingRead();
    await observer.query('SELECT pg_cancel_backend($1)', [pid]);
    const failed = await first;
    expect([failed.status, failed.body.error.code]).toEqual([500, 'internal_error']);
    await holder.query('COMMIT');
    expect((await Promise.all(rest)).map((a) => a.status)).toEqual([201, 201]);
  } finally {
    await holder.end();
    await observer.end();
  }
  expect(await rt.db('guarantees').where({ number: bodies[0].number })).toHaveLength(0);
  expect(await rt.db('guarantees').whereIn('number', [bodies[1].number, bodies[2].number])).toHaveLength(2);
  // And the reader takes the next call as before.
  expect((await send(w.issue(scenes[0].issuer, w.issuance(scenes[0], { number: bodies[0].number })))).status).toBe(201);
});

it('reads at most certificateReadsPerStatementMax calls in one statement', async () => {
  const sc = await w.scene('insurance');
  const calls = certificateReadsPerStatementMax + 1;
  const reads: unknown[][] = [];
  const listen = (q: { sql: string; bindings: unknown[] }) => {
    if (/FROM certificates WHERE fingerprint/.test(q.sql)) reads.push(q.bindings);
  };
  const holder = new Client({ connectionString: isolated.url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE certificates IN ACCESS EXCLUSIVE MODE');
  rt.db.on('query', listen);
  try {
    const first = send(w.issue(sc.issuer, w.issuance(sc)));
    await until(() => reads.length === 1);
    // One issuer's calls: one certificate, asked for by every call.
    const rest = Array.from({ length: calls }, () => send(w.issue(sc.issuer, w.issuance(sc))));
    await new Promise((r) => setTimeout(r, 1500));
    await holder.query('COMMIT');
    const answers = await Promise.all([first, ...rest]);
    // Past the signature each is judged on its own (R7 lets one live guarantee per bidder and
    // section); none is refused for its signature.
    expect(answers.filter((a) => a.status === 401)).toHaveLength(0);
  } finally {
    rt.db.off('query', listen);
    await holder.end();
  }
  // The first call's read, then the calls that waited: a full statement and the one left over,
  // each reading the one certificate once.
  expect(reads).toHaveLength(3);
  expect(reads.map((b) => (b[0] as string[]).length)).toEqual([1, 1, 1]);
});
