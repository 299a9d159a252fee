// The bidbond command: processes (api, worker, sandbox-bank, or all together on the embedded
// default), migrations, keys, and operator tasks.
import { existsSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config';
import { createDb } from '../db/knex';
import { migrateLatest } from '../db/migrate';
import { createApiKey, revokeApiKey, roles, type Role } from '../http/auth';
import { RedisNotFound } from '../queue/embeddedRedis';
import type { ServiceParts } from '../app/process';
import { connectInfrastructure } from '../app/infrastructure';
import { createLogger } from '../runtime';
import { extraCommands } from './commands';
import { addOpenApiCommand } from './openapi';

export function fail(message: string): never {
  process.stderr.write(`bidbond: ${message}\n`);
  process.exit(1);
}

/** The signals that ask a process to stop: Ctrl-C, `kill`, a closed terminal. */
const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof stopSignals)[number];

/** Exiting, rather than dying by the signal, runs the exit hooks that stop the embedded
 *  PostgreSQL and Redis: they run in process groups of their own, so no terminal signal
 *  reaches them. */
function exitOnSignal(signal: StopSignal): never {
  process.exit(128 + osConstants.signals[signal]);
}

/** Other commands exit at once on a stop signal; `serve` drains first. */
let onStopSignal: (signal: StopSignal) => void = exitOnSignal;
for (const signal of stopSignals) process.on(signal, () => onStopSignal(signal));

// A reader that stops early (`bidbond openapi | head`) closes the pipe: the output is no longer
// wanted, which is not a failure of the command.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

async function serve(parts: ServiceParts, opts: { demo: boolean }): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config);
  const report = (line: string) => process.stderr.write(`bidbond: ${line}\n`);
  let stopRequested: (signal: StopSignal) => void = () => {};
  const stopSignal = new Promise<StopSignal>((resolve) => (stopRequested = resolve));
  let stopping = false;
  onStopSignal = (signal) => {
    // A second signal is an operator who will not wait for the drain.
    if (stopping) {
      report(`${signal} again: exiting without waiting`);
      exitOnSignal(signal);
    }
    stopping = true;
    report(`${signal}: stopping`);
    stopRequested(signal);
  };
  // A signal during the start is acted on once the start is done, so that what has started
  // is stopped in order.
  const { startService } = require('../app/process') as typeof import('../app/process');
  const service = await startService(config, parts, { log, report });
  const ready = (async () => {
    if (!stopping && !config.isProduction && parts.api && !config.DATABASE_URL) await ensureNewcomerKey(service.rt.db, config, log);
  })();
  void stopSignal.then(async () => {
    // The newcomer key is written before the database pool it uses is closed.
    await ready.catch(() => {});
    await service.stop();
    process.exit(process.exitCode ?? 0);
  });
  await ready;
  if (opts.demo && !stopping) {
    // The demo's verdict is reported; the service keeps serving either way. A demo cut short by a
    // stop has no verdict.
    const { runDemoAgainst } = require('../demo') as typeof import('../demo');
    const summary = await runDemoAgainst({ rt: service.rt, apiUrl: service.apiUrl, sandbox: service.sandbox }).catch((e: Error) => {
      if (!stopping) report(`the demo failed: ${e.message}`);
    });
    if (stopping) return;
    if (!summary?.ok) process.exitCode = 1;
    log.info({ url: service.apiUrl }, `demo finished; still serving at ${service.apiUrl} (docs at ${service.apiUrl}/docs)`);
  }
}

/** On the embedded default, a centre key is made on first start and kept in the data
 *  directory, so a newcomer can call the API at once. */
async function ensureNewcomerKey(db: import('knex').Knex, config: Config, log: ReturnType<typeof createLogger>): Promise<void> {
  const file = path.join(config.dataDir, 'centre.key');
  if (existsSync(file)) return;
  const { key } = await createApiKey(db, { role: 'centre', label: 'development (created at first start)' });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  log.info({ file }, 'created a centre API key for development');
}

const program = new Command('bidbond').description('Bid security clearing: e-guarantees, cash deposits, refunds, vouchers, reconciliation');

program
  .command('start')
  .description('api, worker and sandbox bank in one process; embedded PostgreSQL and Redis when their URLs are unset')
  .option('--demo', 'run the demo of a whole section once the service is up')
  .option('--no-sandbox', 'do not start the sandbox bank')
  .action((o: { demo?: boolean; sandbox: boolean }) => serve({ api: true, worker: true, sandbox: o.sandbox }, { demo: !!o.demo }));

program.command('api').description('the HTTP API (PORT)').action(() => serve({ api: true, worker: false, sandbox: false }, { demo: false }));
program.command('worker').description('the job worker').action(() => serve({ api: false, worker: true, sandbox: false }, { demo: false }));

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(async () => {
    const config = loadConfig();
    const infra = await connectInfrastructure(config);
    const db = createDb(infra.databaseUrl);
    try {
      const applied = await migrateLatest(db);
      process.stdout.write(applied.length ? `applied ${applied.length} migration(s):\n${applied.map((a) => `  ${a}`).join('\n')}\n` : 'database is up to date\n');
    } finally {
      await db.destroy();
      await infra.stop();
    }
  });

const keys = program.command('keys').description('API keys');
keys
  .command('create')
  .description('create an API key; prints only the key')
  .addOption(new Option('--role <role>', 'caller role').choices(roles as unknown as string[]).makeOptionMandatory())
  .option('--tenderee <id>', 'the tenderee a tenderee key speaks for')
  .option('--bidder <id>', 'the bidder a bidder key speaks for')
  .option('--label <text>', 'a note on who holds the key')
  .action(async (o: { role: Role; tenderee?: string; bidder?: string; label?: string }) => {
    if (o.role === 'tenderee' && !o.tenderee) fail('--tenderee <id> is required for a tenderee key');
    if (o.role === 'bidder' && !o.bidder) fail('--bidder <id> is required for a bidder key');
    if (o.role !== 'tenderee' && o.tenderee) fail('--tenderee is only for --role tenderee');
    if (o.role !== 'bidder' && o.bidder) fail('--bidder is only for --role bidder');
    const config = loadConfig();
    const infra = await connectInfrastructure(config);
    const db = createDb(infra.databaseUrl);
    try {
      await migrateLatest(db);
      if (o.tenderee && !(await db('tenderees').where({ id: o.tenderee }).first())) fail(`no tenderee ${o.tenderee}`);
      if (o.bidder && !(await db('bidders').where({ id: o.bidder }).first())) fail(`no bidder ${o.bidder}`);
      const { key } = await createApiKey(db, { role: o.role, tendereeId: o.tenderee, bidderId: o.bidder, label: o.label });
      process.stdout.write(`${key}\n`);
    } finally {
      await db.destroy();
      await infra.stop();
    }
  });
keys
  .command('revoke <id>')
  .description('revoke an API key by its id')
  .action(async (id: string) => {
    const config = loadConfig();
    const infra = await connectInfrastructure(config);
    const db = createDb(infra.databaseUrl);
    try {
      if (!(await revokeApiKey(db, id))) fail(`no active key ${id}`);
      process.stdout.write(`revoked ${id}\n`);
    } finally {
      await db.destroy();
      await infra.stop();
    }
  });

for (const add of extraCommands) add(program);
addOpenApiCommand(program, () => loadConfig());

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof RedisNotFound) fail(e.message);
  // Operators get the message; the stack only when they ask for it.
  fail(process.env.LOG_LEVEL === 'debug' ? ((e as Error)?.stack ?? String(e)) : ((e as Error)?.message ?? String(e)));
});
