// Who is signed in. The session lives in an httpOnly cookie the page cannot read; the page knows
// the person from GET /v1/session and sends the session's CSRF token with every change.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiFailure, currentCsrfToken, setCsrfToken } from './api/client';

export type Role = 'centre' | 'tenderee' | 'bidder' | 'auditor';

export interface SessionUser {
  id: string;
  login: string;
  role: Role;
  tendereeId?: string | null;
  bidderId?: string | null;
}

interface SessionBody {
  user: SessionUser;
  csrfToken: string;
}

interface SessionContext {
  /** undefined while asking, null when nobody is signed in. */
  user: SessionUser | null | undefined;
  signIn: (login: string, password: string) => Promise<SessionUser>;
  signOut: () => Promise<void>;
  /** The auditor sees everything and may change nothing. */
  readOnly: boolean;
}

const Ctx = createContext<SessionContext>({
  user: undefined,
  signIn: () => Promise.reject(new Error('no session provider')),
  signOut: () => Promise.resolve(),
  readOnly: true,
});

async function failure(response: Response): Promise<ApiFailure> {
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  return new ApiFailure(response.status, body.error?.code ?? 'http_error', body.error?.message ?? response.statusText);
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);

  const accept = useCallback((body: SessionBody) => {
    setCsrfToken(body.csrfToken);
    setUser(body.user);
    return body.user;
  }, []);

  useEffect(() => {
    let live = true;
    fetch('/v1/session', { credentials: 'same-origin' })
      .then(async (r) => (r.ok ? ((await r.json()) as SessionBody) : null))
      .then((body) => {
        if (!live) return;
        if (body) accept(body);
        else setUser(null);
      })
      .catch(() => live && setUser(null));
    return () => {
      live = false;
    };
  }, [accept]);

  const signIn = useCallback(
    async (login: string, password: string) => {
      const r = await fetch('/v1/session', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ login, password }),
      });
      if (!r.ok) throw await failure(r);
      return accept((await r.json()) as SessionBody);
    },
    [accept],
  );

  const signOut = useCallback(async () => {
    const token = currentCsrfToken();
    await fetch('/v1/session', { method: 'DELETE', credentials: 'same-origin', headers: token ? { 'X-CSRF-Token': token } : {} }).catch(() => undefined);
    setCsrfToken(undefined);
    setUser(null);
  }, []);

  const value = useMemo(() => ({ user, signIn, signOut, readOnly: user?.role === 'auditor' }), [user, signIn, signOut]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionContext {
  return useContext(Ctx);
}
