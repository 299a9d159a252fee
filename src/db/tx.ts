// Whether a handle is a transaction: work that must run at commit (the audit chain) can only be
// deferred inside one.
import type { Knex } from 'knex';
import type { Tx } from './knex';

export function isTransaction(db: Tx): db is Knex.Transaction {
  return (db as Knex.Transaction).isTransaction === true;
}
