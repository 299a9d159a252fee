// `bidbond demo`: starts what the demo needs on the embedded default (the same pieces as
// `bidbond start`: PostgreSQL and Redis when their URLs are unset, api, worker and sandbox bank
// in this process), runs the demo, stops everything and exits with the demo's verdict.
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config';
import { runningStart } from '../app/infrastructure';
import { createLogger } from '../runtime';
import { demoBiddersDefault, demoBiddersMax, demoBiddersMin, demoSeedDefault } from '../demo/cast';

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

export async function runDemoCommand(o: { bidders: number; out?: string; seed: number }): Promise<number> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? demoLogLevelDefault });
  // A `bidbond start` on the same data directory owns its embedded database and sandbox bank.
  const running = config.DATABASE_URL && config.REDIS_URL ? undefined : runningStart(config);
  if (running) throw new Error(`a bidbond start (pid ${running.pid}) is running on ${config.dataDir}: stop it, or run the demo inside it with \`bidbond start --demo\``);
  const log = createLogger(config);
  process.stdout.write(`starting the service (data in ${config.dataDir}${config.DATABASE_URL ? '' : ', embedded PostgreSQL'}${config.REDIS_URL ? '' : ', redis-server'}) …\n`);
  // The service and the demo are loaded when this command runs, not whenever the program starts.
  const { startService } = require('../app/process') as typeof import('../app/process');
  const { runDemoAgainst } = require('../demo/run') as typeof import('../demo/run');
  const service = await startService(config, { api: true, worker: true, sandbox: true }, { log });
  try {
    const summary = await runDemoAgainst({ rt: service.rt, apiUrl: service.apiUrl, sandbox: service.sandbox, bidders: o.bidders, seed: o.seed, outDir: o.out });
    return summary.ok ? 0 : 1;
  } finally {
    await service.stop();
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
