import { z } from 'zod';
import { roles } from '../http/auth';
import { loginLengthMax, passwordLengthMax } from './rules';

/** A login longer than any login can be, or a password longer than any password can be (in
 *  UTF-16 units, up to four per character), is refused before a hash is spent on it. */
export const signInIn = z.strictObject({
  login: z.string().min(1).max(loginLengthMax),
  password: z.string().min(1).max(passwordLengthMax * 4),
});

export const sessionUser = z.object({
  id: z.string(),
  login: z.string(),
  role: z.enum(roles),
  tendereeId: z.string().optional(),
  bidderId: z.string().optional(),
});

export const sessionOut = z.object({
  object: z.literal('session'),
  user: sessionUser,
  /** Send it back as X-CSRF-Token on every request other than GET and HEAD. */
  csrfToken: z.string(),
  /** When the session ends if unused; each use moves it on (recorded at most once a minute). */
  idleExpiresAt: z.string(),
  /** When the session ends whatever its use. */
  expiresAt: z.string(),
});
