// Issuances arriving together are committed in groups (guarantees/issuanceGroups.ts): each is
// claimed, judged, answered and audited as if it had come alone, and one refused leaves the
// others recorded.
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { bearer, startTestRuntime, testApp } from '../support/runtime';
import { newCert, unique, World } from './guaranteesFixtures';

let rt: Runtime;
let app: Express;
let w: World;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  w = await new World(rt, app).init();
});
afterAll(async () => {
  await rt.close();
});

const groupSizes = async () => {
  const m = await rt.metrics.groupCommitSize.get();
  const value = (name: string) => m.values.find((v) => v.metricName === name && v.labels.work === 'issuances')?.value ?? 0;
  return { count: value('bidbond_group_commit_size_count'), sum: value('bidbond_group_commit_size_sum') };
};

describe('a rush of issuances', () => {
  it('is committed in groups, each guarantee judged, answered and audited on its own', async () => {
    const scenes = await Promise.all(Array.from({ length: 12 }, (_, i) => w.scene(i % 2 === 0 ? 'bank' : 'insurance')));
    const before = await groupSizes();
    const bodies = scenes.map((sc) => w.issuance(sc));
    const answers = await Promise.all(scenes.map((sc, i) => w.issue(sc.issuer, bodies[i])));
    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(201);
      expect(a.body).toMatchObject({ object: 'guarantee', status: 'issued', number: bodies[i].number, sectionId: scenes[i].section.id, bidderId: scenes[i].bidder.id });
      expect(await rt.db('audit_events').where({ entity_id: a.body.id, action: 'guarantee.issued' })).toHaveLength(1);
    }
    const after = await groupSizes();
    expect(after.sum - before.sum).toBe(scenes.length);
    expect(after.count - before.count).toBeLessThan(scenes.length);
  });

  it('answers an issuance it refuses with its own error, and records the others', async () => {
    const scenes = await Promise.all(Array.from({ length: 6 }, () => w.scene('insurance')));
    const bodies = scenes.map((sc, i) => w.issuance(sc, i === 2 ? { sectionCode: unique('NOPE') } : {}));
    const answers = await Promise.all(scenes.map((sc, i) => w.issue(sc.issuer, bodies[i])));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 422, 201, 201, 201]);
    expect(answers[2].body.error).toMatchObject({ code: 'section_unknown', rule: 'R7' });
    expect(await rt.db('webhook_events').where({ sender_type: 'issuer', sender_id: scenes[2].issuer.id, event_id: bodies[2].eventId })).toHaveLength(0);
    for (const i of [0, 1, 3, 4, 5]) {
      expect(await rt.db('guarantees').where({ issuer_id: scenes[i].issuer.id, number: bodies[i].number, status: 'issued' })).toHaveLength(1);
    }
  });

  it('judges each issuance against those before it in its group (R7): one live guarantee per bidder, one guarantee per number, one answer per event', async () => {
    const crowd = await Promise.all(Array.from({ length: 8 }, () => w.scene('bank')));
    const [pair, numbered, repeated] = await Promise.all([w.scene('bank'), w.scene('bank'), w.scene('bank')]);
    const twoForOneBidder = [w.issuance(pair), w.issuance(pair)];
    const sameNumber = [w.issuance(numbered), w.issuance(numbered)];
    sameNumber[1].number = sameNumber[0].number;
    const once = w.issuance(repeated);
    const before = await groupSizes();
    const [crowdAnswers, pairAnswers, numberAnswers, onceAnswers] = await Promise.all([
      Promise.all(crowd.map((sc) => w.issue(sc.issuer, w.issuance(sc)))),
      Promise.all(twoForOneBidder.map((b) => w.issue(pair.issuer, b))),
      Promise.all(sameNumber.map((b) => w.issue(numbered.issuer, b))),
      Promise.all([w.issue(repeated.issuer, once), w.issue(repeated.issuer, once)]),
    ]);
    const after = await groupSizes();
    expect(after.count - before.count).toBeLessThan(crowd.length + 6);
    expect(crowdAnswers.map((a) => a.status)).toEqual(crowd.map(() => 201));

    // Whichever came first stands for the bidder; the other is recorded, rejected under R7.
    expect(pairAnswers.map((a) => a.status)).toEqual([201, 201]);
    const issued = pairAnswers.find((a) => a.body.status === 'issued')!;
    const rejected = pairAnswers.find((a) => a.body.status === 'rejected')!;
    expect(issued && rejected).toBeTruthy();
    expect(rejected.body.checks).toContainEqual({ rule: 'R7', ok: false, detail: `one guarantee per bidder and section: your guarantee ${issued.body.id} already secures this bidder here` });
    expect(await rt.db('guarantees').where({ section_id: pair.section.id, bidder_id: pair.bidder.id }).orderBy('status')).toMatchObject([{ id: issued.body.id, status: 'issued' }, { id: rejected.body.id, status: 'rejected' }]);

    // A number already taken is refused, and nothing is kept of that issuance.
    expect(numberAnswers.map((a) => a.status).sort()).toEqual([201, 409]);
    const refused = numberAnswers.findIndex((a) => a.status === 409);
    expect(numberAnswers[refused].body.error).toMatchObject({ code: 'guarantee_number_exists' });
    expect(await rt.db('guarantees').where({ issuer_id: numbered.issuer.id, number: sameNumber[0].number })).toMatchObject([{ id: numberAnswers[1 - refused].body.id, event_id: sameNumber[1 - refused].eventId }]);
    expect(await rt.db('webhook_events').where({ sender_type: 'issuer', sender_id: numbered.issuer.id, event_id: sameNumber[refused].eventId })).toHaveLength(0);

    // The same event twice at once: one guarantee, the same answer twice.
    expect(onceAnswers.map((a) => a.status)).toEqual([201, 201]);
    expect(onceAnswers[0].body).toEqual(onceAnswers[1].body);
    expect(await rt.db('guarantees').where({ issuer_id: repeated.issuer.id, number: once.number })).toHaveLength(1);
    expect(await rt.db('audit_events').where({ entity_id: onceAnswers[0].body.id, action: 'guarantee.issued' })).toHaveLength(1);
  });

  it('audits each guarantee of a group once, in arrival order, and answers an application before its guarantee is audited', async () => {
    // An issuer that takes applications; no worker runs here, so the application stays submitted.
    const applied = await w.scene('insurance', {}, { callbackUrl: 'https://issuer.example.test/applications' });
    const [pair, ...plain] = await Promise.all(Array.from({ length: 5 }, () => w.scene('insurance')));
    const application = await request(app).post('/v1/guarantee-applications').set(bearer(w.centre)).send({ sectionId: applied.section.id, issuerId: applied.issuer.id, kind: 'insurance', bidderId: applied.bidder.id });
    expect(application.body).toMatchObject({ status: 'submitted' });
    const pairBodies = [w.issuance(pair), w.issuance(pair)];
    const appliedBody = w.issuance(applied, { applicationId: application.body.id });
    const plainBodies = plain.map((sc) => w.issuance(sc));
    const before = await groupSizes();
    // Two rushes: one of guarantees alone, one with an application among them.
    const alone = await Promise.all([...pairBodies.map((b) => w.issue(pair.issuer, b)), ...plain.slice(0, 2).map((sc, i) => w.issue(sc.issuer, plainBodies[i]))]);
    const withApplication = await Promise.all([w.issue(applied.issuer, appliedBody), ...plain.slice(2).map((sc, i) => w.issue(sc.issuer, plainBodies[i + 2]))]);
    const after = await groupSizes();
    expect(after.count - before.count).toBeLessThan(alone.length + withApplication.length);
    for (const a of [...alone, ...withApplication]) expect(a.status).toBe(201);

    const eventsOf = (guaranteeId: string) => rt.db('audit_events').where({ entity_type: 'guarantee', entity_id: guaranteeId }).orderBy('seq');
    for (const [i, a] of [...alone, ...withApplication].entries()) {
      const events = await eventsOf(a.body.id);
      expect(events).toHaveLength(1);
      const body = [...pairBodies, ...plainBodies.slice(0, 2), appliedBody, ...plainBodies.slice(2)][i];
      expect(events[0]).toMatchObject({ action: `guarantee.${a.body.status}`, actor_type: 'issuer', data: { number: body.number, eventId: body.eventId } });
    }

    // The pair's first stands for the bidder; the second, rejected under R7, is audited after it.
    const issued = alone.slice(0, 2).find((a) => a.body.status === 'issued')!;
    const rejected = alone.slice(0, 2).find((a) => a.body.status === 'rejected')!;
    const [issuedEvent] = await eventsOf(issued.body.id);
    const [rejectedEvent] = await eventsOf(rejected.body.id);
    expect(rejectedEvent.data.failed).toEqual(['R7']);
    expect(BigInt(rejectedEvent.seq)).toBeGreaterThan(BigInt(issuedEvent.seq));

    // The application answered, and its event just before its guarantee's.
    const appliedAnswer = withApplication[0];
    expect(appliedAnswer.body).toMatchObject({ status: 'issued', applicationId: application.body.id });
    expect(await rt.db('guarantee_applications').where({ id: application.body.id }).first()).toMatchObject({ status: 'issued', guarantee_id: appliedAnswer.body.id });
    const answered = await rt.db('audit_events').where({ entity_type: 'guarantee_application', entity_id: application.body.id, action: 'guarantee_application.issued' });
    expect(answered).toHaveLength(1);
    const [appliedEvent] = await eventsOf(appliedAnswer.body.id);
    expect(BigInt(appliedEvent.seq)).toBeGreaterThan(BigInt(answered[0].seq));
  });
});

describe('a certificate retired after its registration was remembered', () => {
  it('refuses only the issuances signed with it (401, counted, nothing kept), whatever they were grouped with', async () => {
    const sc = await w.scene('bank');
    const next = newCert();
    expect((await request(app).post(`/v1/issuers/${sc.issuer.id}/certificates`).set(bearer(w.centre)).send({ certificatePem: next.certPem })).status).toBe(201);
    const withNext = { ...sc.issuer, keyPem: next.keyPem, fingerprint: next.fingerprint };
    // Accepted, so the process now remembers the certificate's registration.
    expect((await w.issue(sc.issuer, w.issuance(sc))).status).toBe(201);
    expect((await request(app).delete(`/v1/issuers/${sc.issuer.id}/certificates/${sc.issuer.fingerprint}`).set(bearer(w.centre))).status).toBe(204);

    const refusals = async () => (await rt.metrics.webhookRejected.get()).values.find((v) => v.labels.reason === 'certificate_retired')?.value ?? 0;
    const refusedBefore = await refusals();
    const others = await Promise.all([w.scene('insurance'), w.scene('insurance')]);
    const [b1, b2] = [await w.bidder(), await w.bidder()];
    const retiredOne = w.issuance({ ...sc, bidder: b1 });
    const currentOne = w.issuance({ ...sc, bidder: b2 });
    const otherBodies = others.map((o) => w.issuance(o));
    const answers = await Promise.all([
      w.issue(others[0].issuer, otherBodies[0]),
      w.issue(sc.issuer, retiredOne),
      w.issue(withNext, currentOne),
      w.issue(others[1].issuer, otherBodies[1]),
    ]);
    expect(answers.map((a) => a.status)).toEqual([201, 401, 201, 201]);
    expect(answers[1].body.error.code).toBe('certificate_retired');
    expect(await refusals()).toBe(refusedBefore + 1);
    expect(await rt.db('guarantees').where({ issuer_id: sc.issuer.id, number: retiredOne.number })).toHaveLength(0);
    expect(await rt.db('webhook_events').where({ sender_type: 'issuer', sender_id: sc.issuer.id, event_id: retiredOne.eventId })).toHaveLength(0);
    expect(await rt.db('guarantees').where({ issuer_id: sc.issuer.id, number: currentOne.number, status: 'issued' })).toHaveLength(1);

    // Its event id was not spent: the same issuance signed with the current certificate is recorded.
    const again = await w.issue(withNext, retiredOne);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
  });
});
