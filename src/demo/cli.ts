// `bidbond demo`: starts what the demo needs on the embedded default (the same pieces as
// `bidbond start`: PostgreSQL and Redis when their URLs are unset, api, worker and sandbox bank
// in this process), runs the demo, stops everything and exits with the demo's verdict.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config';
import { createApp } from '../http/app';
import { allRoutes } from '../http/routes';
import { startWorkers } from '../queue/worker';
import { createLogger, createRuntime, resolveInfrastructure } from '../runtime';
import { startEmbeddedSandbox } from '../cli/sandbox';
import { demoBiddersDefault, demoBiddersMax, demoBiddersMin } from './cast';
import { demoSeedDefault, runDemoAgainst } from './run';

/** The service's own log while the demo runs, unless LOG_LEVEL says otherwise: the demo's
 *  lines are what the person is reading. */
export const demoLogLevelDefault = 'error';
const seedMax = 2 ** 32 - 1;

function intOption(min: number, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`an integer from ${min} to ${max}`);
    return n;
  };
}

/** A `bidbond start` on the same data directory owns its embedded database and sandbox bank. */
function runningStart(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'runtime.json');
  if (!existsSync(file)) return undefined;
  const { pid } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number };
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export async function runDemoCommand(o: { bidders: number; out?: string; seed: number }): Promise<number> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? demoLogLevelDefault });
  const pid = config.DATABASE_URL && config.REDIS_URL ? undefined : runningStart(config.dataDir);
  if (pid) throw new Error(`a bidbond start (pid ${pid}) is running on ${config.dataDir}: stop it, or run the demo inside it with \`bidbond start --demo\``);
  const log = createLogger(config);
  process.stdout.write(`starting the service (data in ${config.dataDir}${config.DATABASE_URL ? '' : ', embedded PostgreSQL'}${config.REDIS_URL ? '' : ', redis-server'}) …\n`);
  const infra = await resolveInfrastructure(config, log);
  const closers: (() => Promise<void>)[] = [async () => infra.stop()];
  try {
    const rt = await createRuntime(config, infra, { log, migrate: true });
    closers.push(() => rt.close());
    const server: Server = createApp(rt, allRoutes).listen(config.PORT, config.HOST);
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new Error(`port ${config.PORT} is in use: set PORT to a free one`) : e));
    });
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const apiUrl = `http://${config.HOST}:${config.PORT}`;
    const workers = await startWorkers(rt, infra.redisUrl);
    closers.push(workers.close);
    const sandbox = await startEmbeddedSandbox(rt, infra.databaseUrl, apiUrl, log);
    closers.push(sandbox.close);
    const summary = await runDemoAgainst({ rt, apiUrl, sandbox, bidders: o.bidders, seed: o.seed, outDir: o.out });
    return summary.ok ? 0 : 1;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
  }
}

export function addDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run one whole section as it happens (bidders, guarantees, payments, mistakes, opening, refunds under bank faults, reconciliation, vouchers) and check the books')
    .option('--bidders <n>', `bidders (${demoBiddersMin}–${demoBiddersMax})`, intOption(demoBiddersMin, demoBiddersMax), demoBiddersDefault)
    .option('--out <dir>', 'output folder (default ./demo-output/<timestamp>)')
    .option('--seed <s>', 'seed for who does what and for the bank faults', intOption(0, seedMax), demoSeedDefault)
    .action(async (o: { bidders: number; out?: string; seed: number }) => {
      const code = await runDemoCommand(o);
      process.exit(code);
    });
}
