import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { expireGuarantees } from '../../src/guarantees/expiry';
import { bearer, startTestRuntime, testApp } from '../support/runtime';
import { World } from '../api/guaranteesFixtures';

let rt: Runtime;
let app: Express;
let world: World;

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
  world = await new World(rt, app).init();
});
afterAll(async () => {
  await rt.close();
});

describe('guarantee expiry', () => {
  it('moves a guarantee in force past its last valid day to expired, once, and leaves claimed ones alone', async () => {
    const scene = await world.scene('insurance');
    const issued = await world.issue(scene.issuer, world.issuance(scene));
    expect(issued.body.status).toBe('issued');
    const other = await world.scene('guarantor');
    const claimed = await world.issue(other.issuer, world.issuance(other));
    // Time passes: both lapse; one of them is under a claim.
    await rt.db('guarantees').whereIn('id', [issued.body.id, claimed.body.id]).update({ valid_from: '2020-01-01', valid_to: '2020-06-30' });
    await rt.db('guarantees').where({ id: claimed.body.id }).update({ status: 'claimed', claim_reason: 'refused_to_sign', claim_amount_fen: 5000000n, claimed_by: 'key_test', claimed_at: new Date() });

    expect(await expireGuarantees(rt)).toBeGreaterThanOrEqual(1);
    expect(await expireGuarantees(rt)).toBe(0);

    const got = await request(app).get(`/v1/guarantees/${issued.body.id}`).set(bearer(world.centre));
    expect(got.body.status).toBe('expired');
    expect((await rt.db('guarantees').where({ id: claimed.body.id }).first()).status).toBe('claimed');
    const events = await rt.db('audit_events').where({ entity_id: issued.body.id, action: 'guarantee.expired' });
    expect(events).toHaveLength(1);
    // An expired guarantee no longer counts as the bidder's live one: a new one may be issued.
    const again = await world.issue(scene.issuer, world.issuance(scene));
    expect(again.body.status).toBe('issued');
  });

  it('does not expire a guarantee on its last valid day', async () => {
    const scene = await world.scene('insurance');
    const issued = await world.issue(scene.issuer, world.issuance(scene));
    await rt.db('guarantees').where({ id: issued.body.id }).update({ valid_from: '2020-01-01', valid_to: '2020-06-30' });
    await expireGuarantees(rt, new Date('2020-06-30T15:59:59.000Z')); // 23:59:59 in Shanghai
    expect((await rt.db('guarantees').where({ id: issued.body.id }).first()).status).toBe('issued');
    await expireGuarantees(rt, new Date('2020-06-30T16:00:00.000Z')); // 00:00 the next day
    expect((await rt.db('guarantees').where({ id: issued.body.id }).first()).status).toBe('expired');
  });
});
