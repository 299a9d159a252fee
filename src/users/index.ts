// People who sign in to the console (users), and their sessions: sign-in, sign-out, lock-out,
// and the session check of every /v1 request (./sessions.ts, used by src/http/auth.ts).
import type { DomainModule } from '../module';
import { userRoutes } from './routes';
import { sweepEndedSessions } from './service';

export const users: DomainModule = {
  name: 'users',
  routes: userRoutes,
  jobs: {},
  sweepers: [{ name: 'sessionsEnded', run: (rt) => sweepEndedSessions(rt.db) }],
};
