import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { loadBusinessTables } from '../../src/tables';
import { interestFen } from '../../src/domain/interest';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-tables-'));
const file = (name: string, body: unknown) => {
  const p = path.join(dir, name);
  writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
  return p;
};

describe('business tables from configuration', () => {
  it('R19 takes a configured year of holidays and make-up days beside the built-in schedules', () => {
    const t = loadBusinessTables({
      BIDBOND_CALENDAR_FILE: file('cal.json', { holidays: ['2027-01-01'], makeupWorkdays: ['2027-01-09'] }),
    });
    expect(t.calendar.isWorkingDay('2027-01-01')).toBe(false);
    expect(t.calendar.isWorkingDay('2027-01-09')).toBe(true); // a Saturday made a working day
    expect(t.calendar.isWorkingDay('2026-10-01')).toBe(false); // the built-in National Day stays
  });

  it('R13 uses a configured deposit rate table', () => {
    const t = loadBusinessTables({ BIDBOND_DEPOSIT_RATE_FILE: file('rates.json', [{ from: '2000-01-01', annualRatePercent: '3.6' }]) });
    // 1,000,000.00 × 3.6% × 10 / 360 = 1,000.00
    expect(interestFen(100000000n, t.depositRates, '2026-01-01', '2026-01-11')).toBe(100000n);
  });

  it('stops the start with the variable named when a file is unreadable or wrong', () => {
    expect(() => loadBusinessTables({ BIDBOND_CALENDAR_FILE: path.join(dir, 'missing.json') })).toThrow(ConfigError);
    expect(() => loadBusinessTables({ BIDBOND_CALENDAR_FILE: file('bad.json', '{"holidays": 3}') })).toThrow(/BIDBOND_CALENDAR_FILE/);
    expect(() => loadBusinessTables({ BIDBOND_LOAN_RATE_FILE: file('badrate.json', [{ from: 'x', annualRatePercent: 1 }]) })).toThrow(/BIDBOND_LOAN_RATE_FILE/);
  });
});

describe('configuration', () => {
  it('names the variable of a bad value', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ BIDBOND_DEPOSIT_CAP: '-5' })).toThrow(/BIDBOND_DEPOSIT_CAP/);
    expect(() => loadConfig({ BIDBOND_ENV: 'production' })).toThrow(/DATABASE_URL: required/);
    expect(() => loadConfig({ BIDBOND_DB_POOL_MAX: '0' })).toThrow(/BIDBOND_DB_POOL_MAX/);
    expect(() => loadConfig({ BIDBOND_DB_POOL_MAX: '101' })).toThrow(/BIDBOND_DB_POOL_MAX/);
    expect(loadConfig({ BIDBOND_DB_POOL_MAX: '4' }).BIDBOND_DB_POOL_MAX).toBe(4);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });
});
