// Keyset pagination on time-sortable ids: the cursor is the last id returned, so pages stay
// stable while rows are added and no OFFSET scan grows with the page number.
import type { Knex } from 'knex';
import { BadRequest } from '../errors';

export interface Page<T> {
  object: 'list';
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

const cursorPattern = /^[a-z]{3}_[0-9a-hjkmnp-tv-z]{26}$/;

export async function paginate<R extends { id: string }, T>(
  q: Knex.QueryBuilder,
  opts: { limit: number; cursor?: string; idColumn?: string },
  present: (row: R) => T | Promise<T>,
): Promise<Page<T>> {
  const col = opts.idColumn ?? 'id';
  if (opts.cursor !== undefined) {
    if (!cursorPattern.test(opts.cursor)) throw new BadRequest('invalid_cursor', 'cursor is not one this API returned', 'cursor');
    q.where(col, '>', opts.cursor);
  }
  const rows = (await q.orderBy(col, 'asc').limit(opts.limit + 1)) as R[];
  const hasMore = rows.length > opts.limit;
  const page = rows.slice(0, opts.limit);
  return {
    object: 'list',
    data: await Promise.all(page.map(present)),
    hasMore,
    nextCursor: hasMore ? page[page.length - 1].id : null,
  };
}
