import type { z } from 'zod';
import type { SessionTiming } from '../timing';
import type { SessionRow, UserRow } from './repo';
import { idleExpiresAt } from './rules';
import type { sessionOut } from './schemas';

export function presentSession(user: UserRow, session: SessionRow, timing: SessionTiming): z.infer<typeof sessionOut> {
  return {
    object: 'session',
    user: {
      id: user.id,
      login: user.login,
      role: user.role,
      ...(user.tenderee_id ? { tendereeId: user.tenderee_id } : {}),
      ...(user.bidder_id ? { bidderId: user.bidder_id } : {}),
    },
    csrfToken: session.csrf_token,
    idleExpiresAt: idleExpiresAt({ lastSeenAt: session.last_seen_at, expiresAt: session.expires_at }, timing).toISOString(),
    expiresAt: session.expires_at.toISOString(),
  };
}
