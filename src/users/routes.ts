import { defineRoute, transactionOf, type RouteDef } from '../http/route';
import { CsrfTokenInvalid, NotSignedIn, SessionExpired } from './errors';
import { presentSession } from './present';
import * as s from './schemas';
import { signIn, signOut } from './service';
import { clearedSessionCookie, cookieOptionsFor, csrfHeader, csrfMatches, findLiveSession, sessionCookie, sessionTokenOf } from './sessions';

const tags = ['session'];
/** The answer names the CSRF token: no cache along the way may keep it. */
const noStore = { 'Cache-Control': 'no-store' };

export const userRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'post', path: '/v1/session', operationId: 'signIn',
    summary: 'Sign a person in: sets the bidbond_session cookie and answers the CSRF token to send as X-CSRF-Token', tags,
    access: { public: true }, body: s.signInIn, response: s.sessionOut,
    // Not one transaction with the answer: a wrong password must be counted (and the lock set)
    // even though the answer is an error. The service commits what it decides itself.
    transactional: false, idempotent: false,
    handler: async ({ req, body, deps }) => {
      const previous = sessionTokenOf(req);
      const timing = deps.timing.sessions;
      const { user, session, token } = await signIn(
        { db: deps.db, redis: deps.redis, keyPrefix: deps.config.BIDBOND_QUEUE_PREFIX, timing },
        body,
        { ip: req.ip, userAgent: req.get('user-agent'), previousToken: previous === 'malformed' ? undefined : previous },
      );
      const maxAge = Math.floor(timing.absoluteTimeoutMs / 1000);
      return { body: presentSession(user, session, timing), headers: { ...noStore, 'Set-Cookie': sessionCookie(token, maxAge, cookieOptionsFor(deps.config)) } };
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/session', operationId: 'getSession',
    summary: 'The signed-in person and the session\'s CSRF token; reading it does not count as a use (a console may poll it)', tags,
    access: { public: true }, response: s.sessionOut,
    handler: async ({ req, res, deps }) => {
      const token = sessionTokenOf(req);
      if (token === undefined || token === 'malformed') throw new NotSignedIn();
      const live = await findLiveSession(deps.db, token, deps.timing.sessions, new Date());
      if (!live) {
        res.setHeader('Set-Cookie', clearedSessionCookie(cookieOptionsFor(deps.config)));
        throw new SessionExpired();
      }
      return { body: presentSession(live.user, live.session, deps.timing.sessions), headers: noStore };
    },
  }),
  defineRoute({
    method: 'delete', path: '/v1/session', operationId: 'signOut',
    summary: `Sign out: the session ends and the cookie is cleared (${csrfHeader} required while the session is live)`, tags,
    access: { public: true }, successStatus: 204,
    handler: async ({ req, tx, deps }) => {
      const token = sessionTokenOf(req);
      if (token !== undefined && token !== 'malformed') {
        const live = await findLiveSession(tx, token, deps.timing.sessions, new Date());
        if (live) {
          if (!csrfMatches(req.get(csrfHeader), live.session.csrf_token)) throw new CsrfTokenInvalid();
          await signOut(transactionOf(tx), token);
        }
      }
      return { status: 204, headers: { ...noStore, 'Set-Cookie': clearedSessionCookie(cookieOptionsFor(deps.config)) } };
    },
  }),
];
