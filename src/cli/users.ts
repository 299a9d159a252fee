// `bidbond users create|reset-password|disable`: the people who sign in to the console. A password
// is read from standard input (its first line), never from the command line, where `ps` and the
// shell's history would show it.
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Knex } from 'knex';
import { connectInfrastructure } from '../app/infrastructure';
import type { Actor } from '../audit/service';
import type { Config } from '../config';
import { createDb } from '../db/knex';
import { migrateLatest } from '../db/migrate';
import { ApiError } from '../errors';
import { roles, type Role } from '../http/auth';
import { passwordLengthMax, passwordProblem } from '../users/rules';
import { createUser, disableUser, resetPassword } from '../users/service';

/** Standard input is read up to this many bytes: a password line and then some. */
export const passwordInputBytesMax = 4 * passwordLengthMax + 2;

/** The first line of standard input, without its line ending. */
export async function readPasswordLine(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  let text = '';
  let bytes = 0;
  for await (const chunk of input) {
    const part = typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    bytes += Buffer.byteLength(part);
    text += part;
    const nl = text.indexOf('\n');
    if (nl >= 0) return text.slice(0, nl).replace(/\r$/, '');
    if (bytes > passwordInputBytesMax) throw new Error(`the password line is longer than ${passwordInputBytesMax} bytes`);
  }
  return text.replace(/\r$/, '');
}

/** The password from standard input, refused before any connection is made when the policy
 *  refuses it. */
async function newPassword(): Promise<string> {
  const password = await readPasswordLine();
  const problem = passwordProblem(password);
  if (problem) throw new Error(`${password.length === 0 ? 'no password on standard input' : 'the password is refused'}: ${problem}`);
  return password;
}

function operator(): Actor {
  return { type: 'operator', id: process.env.USER ?? 'cli' };
}

async function withDatabase<T>(config: Config, work: (db: Knex) => Promise<T>): Promise<T> {
  const infra = await connectInfrastructure(config);
  const db = createDb(infra.databaseUrl);
  try {
    await migrateLatest(db);
    return await work(db);
  } catch (e) {
    // The operator gets the code and the sentence; a stack only for a real failure.
    if (e instanceof ApiError) throw new Error(`${e.code}: ${e.message}`);
    throw e;
  } finally {
    await db.destroy();
    await infra.stop();
  }
}

const sessionsWord = (n: number) => `${n} session${n === 1 ? '' : 's'} ended`;

export function addUsersCommand(program: Command, config: () => Config): void {
  const cmd = program.command('users').description('people who sign in to the console (password on standard input, first line)');
  cmd
    .command('create')
    .description('create a user with a role; the password is the first line of standard input')
    .addOption(new Option('--role <role>', 'what the person may do').choices(roles as unknown as string[]).makeOptionMandatory())
    .requiredOption('--login <name>', 'the name the person signs in with (letters, digits, . _ @ -; case does not matter)')
    .option('--tenderee <id>', 'the tenderee a tenderee user speaks for')
    .option('--bidder <id>', 'the bidder a bidder user speaks for')
    .action(async (o: { role: Role; login: string; tenderee?: string; bidder?: string }) => {
      const password = await newPassword();
      const user = await withDatabase(config(), (db) =>
        db.transaction((tx) => createUser(tx, operator(), { login: o.login, role: o.role, tendereeId: o.tenderee, bidderId: o.bidder, password })),
      );
      const party = user.tenderee_id ? ` for ${user.tenderee_id}` : user.bidder_id ? ` for ${user.bidder_id}` : '';
      process.stdout.write(`created ${user.id} ${user.login} (${user.role}${party})\n`);
    });
  cmd
    .command('reset-password <login>')
    .description('set a new password (first line of standard input); unlocks the account and ends its sessions')
    .action(async (login: string) => {
      const password = await newPassword();
      const { user, sessionsRevoked } = await withDatabase(config(), (db) => db.transaction((tx) => resetPassword(tx, operator(), login, password)));
      process.stdout.write(`reset the password of ${user.id} ${user.login}; unlocked; ${sessionsWord(sessionsRevoked)}\n`);
    });
  cmd
    .command('disable <login>')
    .description('stop a user from signing in; ends its sessions at once')
    .action(async (login: string) => {
      const { user, sessionsRevoked } = await withDatabase(config(), (db) => db.transaction((tx) => disableUser(tx, operator(), login)));
      process.stdout.write(`disabled ${user.id} ${user.login}; ${sessionsWord(sessionsRevoked)}\n`);
    });
}
