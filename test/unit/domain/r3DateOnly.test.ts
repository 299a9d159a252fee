import { checkR3BeforeDeadline } from '../../../src/domain/rules';
import { r3BookedBeforeDeadline } from '../../../src/deposits/rules';

// 2026-03-02 09:30 in Beijing.
const deadline = new Date('2026-03-02T09:30:00+08:00');
/** A booking the bank reported as a date only: the start of that day in Beijing. */
const bookedOn = (date: string) => new Date(`${date}T00:00:00+08:00`);

describe('R3 with a booking reported as a date only', () => {
  it('R3 a date-only booking on a day before the deadline\'s is on time, whenever it was notified', () => {
    for (const notifiedAt of [new Date('2026-03-03T10:00:00+08:00'), null]) {
      const c = checkR3BeforeDeadline(bookedOn('2026-03-01'), deadline, 'booked', { dateOnly: true, notifiedAt });
      expect(c).toMatchObject({ rule: 'R3', ok: true, verdict: 'on_time' });
      expect(c.detail).toContain('2026-03-01');
    }
  });

  it('R3 a date-only booking on the deadline\'s day notified before the deadline is on time: the bank booked before it notified', () => {
    const c = checkR3BeforeDeadline(bookedOn('2026-03-02'), deadline, 'booked', { dateOnly: true, notifiedAt: new Date('2026-03-02T09:29:59.999+08:00') });
    expect(c).toMatchObject({ ok: true, verdict: 'on_time' });
    expect(c.detail).toContain('notified 2026-03-02T01:29:59.999Z');
  });

  it('R3 a date-only booking on the deadline\'s day notified at or after the deadline cannot be decided, and says both facts', () => {
    for (const notifiedAt of [deadline, new Date('2026-03-02T15:00:00+08:00')]) {
      const c = checkR3BeforeDeadline(bookedOn('2026-03-02'), deadline, 'booked', { dateOnly: true, notifiedAt });
      expect(c).toMatchObject({ rule: 'R3', ok: false, verdict: 'undecidable' });
      expect(c.detail).toContain('booked on 2026-03-02');
      expect(c.detail).toContain(`notified ${notifiedAt.toISOString()}`);
      expect(c.detail).toContain(deadline.toISOString());
    }
  });

  it('R3 a date-only booking on the deadline\'s day from a statement (no notice time) cannot be decided', () => {
    const c = checkR3BeforeDeadline(bookedOn('2026-03-02'), deadline, 'booked', { dateOnly: true, notifiedAt: null });
    expect(c).toMatchObject({ ok: false, verdict: 'undecidable' });
    expect(c.detail).toContain('no notice time');
  });

  it('R3 a date-only booking on a later day than the deadline\'s is late, even if it claims to be notified earlier', () => {
    const c = checkR3BeforeDeadline(bookedOn('2026-03-03'), deadline, 'booked', { dateOnly: true, notifiedAt: new Date('2026-03-03T08:00:00+08:00') });
    expect(c).toMatchObject({ ok: false, verdict: 'late' });
  });

  it('R3 a booking with its time is judged by that time alone, with a verdict', () => {
    expect(checkR3BeforeDeadline(new Date('2026-03-02T09:29:59+08:00'), deadline, 'booked', { notifiedAt: new Date('2026-03-05T00:00:00+08:00') })).toMatchObject({ ok: true, verdict: 'on_time' });
    expect(checkR3BeforeDeadline(new Date('2026-03-02T09:30:00+08:00'), deadline, 'issued')).toMatchObject({ ok: false, verdict: 'late' });
  });

  it('R3 deposits use the same check, with the notice time', () => {
    expect(r3BookedBeforeDeadline(bookedOn('2026-03-02'), deadline, { dateOnly: true, notifiedAt: new Date('2026-03-02T10:00:00+08:00') })).toMatchObject({ verdict: 'undecidable' });
    expect(r3BookedBeforeDeadline(bookedOn('2026-03-02'), deadline, { dateOnly: true, notifiedAt: new Date('2026-03-02T09:00:00+08:00') })).toMatchObject({ verdict: 'on_time' });
  });
});
