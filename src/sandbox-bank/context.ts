// What every part of the running simulator shares: its database, configuration, fault plan,
// signing key and the hooks that wake its background loops after a commit.
import type { Knex } from 'knex';
import type { SandboxConfig } from './config';
import type { FaultInjector } from './faults';

export interface SandboxSigner {
  keyPem: string;
  certPem: string;
  fingerprint: string;
}

export interface SandboxContext {
  db: Knex;
  config: SandboxConfig;
  faults: FaultInjector;
  signer: SandboxSigner;
  /** Four characters unique to this simulator's schema, part of every booking reference. */
  instanceTag: string;
  /** Called after a commit that queued work, so it runs now rather than at the next poll. */
  wakeNotifier(): void;
  wakeSettler(): void;
}

/** Schema-qualified table name for knex ("sandbox_bank.accounts"). */
export function table(ctx: { config: SandboxConfig }, name: string): string {
  return `${ctx.config.schema}.${name}`;
}
