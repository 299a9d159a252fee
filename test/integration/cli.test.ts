// The operator's command as an operator runs it: a separate process with the environment.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync } from 'node:fs';
import request from 'supertest';
import type { Express } from 'express';
import type { Runtime } from '../../src/runtime';
import { startTestRuntime, testApp, testDataDir } from '../support/runtime';

const bin = path.resolve(__dirname, '../../bin/bidbond.js');
let rt: Runtime;
let app: Express;

function bidbond(args: string[], env: Record<string, string | undefined> = {}) {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, BIDBOND_DATA_DIR: testDataDir(), LOG_LEVEL: 'silent', ...env })) if (v !== undefined) merged[k] = v;
  return spawnSync(process.execPath, [bin, ...args], { env: merged, encoding: 'utf8', timeout: 60_000 });
}

beforeAll(async () => {
  rt = await startTestRuntime();
  app = testApp(rt);
});
afterAll(async () => {
  await rt.close();
});

describe('bidbond command', () => {
  it('keys create prints only the key, and the key works', async () => {
    const r = bidbond(['keys', 'create', '--role', 'centre', '--label', 'cli test']);
    expect(r.status).toBe(0);
    const key = r.stdout.trim();
    expect(key).toMatch(/^bb_centre_[A-Za-z0-9_-]{43}$/);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect((await request(app).get('/v1/sections').set('Authorization', `Bearer ${key}`)).status).toBe(200);
  });

  it('keys create refuses a bidder key without its bidder, and an unknown bidder', () => {
    const missing = bidbond(['keys', 'create', '--role', 'bidder']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/--bidder <id> is required/);
    const unknown = bidbond(['keys', 'create', '--role', 'bidder', '--bidder', 'bdr_01m8dhwtfqcpm4m4frb35syc6b']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/no bidder/);
    const badRole = bidbond(['keys', 'create', '--role', 'admin']);
    expect(badRole.status).not.toBe(0);
  });

  it('migrate says the database is up to date', () => {
    const r = bidbond(['migrate']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/database is up to date/);
  });

  it('stops on a bad configuration value with the variable named and no stack trace', () => {
    const r = bidbond(['migrate'], { PORT: 'eighty' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/PORT/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('without REDIS_URL and without a redis-server, says what to install and what to set', () => {
    const emptyBin = mkdtempSync(path.join(os.tmpdir(), 'bb-nobin-'));
    const r = bidbond(['start', '--no-sandbox'], { REDIS_URL: undefined, PATH: emptyBin, PORT: '0' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/apt-get install redis-server/);
    expect(r.stderr).toMatch(/REDIS_URL/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('openapi prints the document the api serves; a reader that stops early is no error', async () => {
    const printed = bidbond(['openapi']);
    expect([printed.status, printed.stderr]).toEqual([0, '']);
    const served = await request(app).get('/v1/openapi.json');
    expect(JSON.parse(printed.stdout)).toEqual(served.body);

    // The reader takes the first bytes and closes the pipe, as `| head -c 64` does.
    const child = spawn(process.execPath, [bin, 'openapi'], { env: { ...process.env, BIDBOND_DATA_DIR: testDataDir(), LOG_LEVEL: 'silent' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect([code, stderr]).toEqual([0, '']);
  });

  it('loads the service only for the commands that run it: help and users start without it, openapi with it', () => {
    const loadedBy = (args: string[]) => {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries({ ...process.env, BIDBOND_DATA_DIR: testDataDir(), LOG_LEVEL: 'silent' })) if (v !== undefined) env[k] = v;
      const r = spawnSync(process.execPath, ['-r', path.resolve(__dirname, '../support/reportLoadedModules.js'), bin, ...args], { env, encoding: 'utf8', timeout: 60_000 });
      const line = r.stderr.split('\n').find((l) => l.startsWith('loaded: '));
      return JSON.parse(line!.slice('loaded: '.length)) as string[];
    };
    const service = ['/src/app/api.ts', '/src/app/process.ts', '/node_modules/bullmq/', '/node_modules/fontkit/', '/node_modules/pdf-lib/'];
    const heavy = (files: string[]) => service.filter((s) => files.some((f) => f.includes(s)));
    expect(heavy(loadedBy(['--help']))).toEqual([]);
    expect(heavy(loadedBy(['users', '--help']))).toEqual([]);
    expect(heavy(loadedBy(['calendar', '--help']))).toEqual([]);
    // The report does see the service where a command needs it.
    expect(heavy(loadedBy(['openapi']))).toEqual(expect.arrayContaining(['/src/app/api.ts']));
  });
});
