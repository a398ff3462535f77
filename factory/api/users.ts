// Who may use the factory's HTTP API. The admin token comes from the config ([api] admin_token,
// admin_token_file or MVM_FACTORY_API_TOKEN) or, when none is given, is made on first start and
// kept beside the database (mode 0600) — never written to a log. Users get their token once, at
// creation; only its hash is stored.
import { eq } from 'drizzle-orm';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { OpenedDb } from '../../shared/db.js';
import { MvmError } from '../../shared/errors.js';
import { hashToken, newToken, tokenMatches } from '../../shared/ids.js';
import { apiUsers, type Schema } from '../db/schema.js';
import { journal } from '../journal.js';

export interface ApiPrincipal {
  name: string;
  admin: boolean;
}

export const ADMIN_NAME = 'admin';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** The admin token: given, or read from (made in) `file`. */
export function adminToken(
  given: string | undefined,
  file: string,
): { token: string; source: string; created: boolean } {
  if (given !== undefined) return { token: given, source: 'the config', created: false };
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token === '')
      throw new MvmError('CONFIG_INVALID', `the API admin token file ${file} is empty`, {
        hint: 'delete it (a new token is made) or write a token into it',
      });
    return { token, source: file, created: false };
  }
  const token = newToken();
  writeFileSync(file, token + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, source: file, created: true };
}

export class ApiUsers {
  private readonly adminHash: string;

  constructor(
    private readonly opened: OpenedDb<Schema>,
    private readonly now: () => number,
    admin: string,
  ) {
    this.adminHash = hashToken(admin);
  }

  /** The principal a bearer token stands for, or undefined. */
  authenticate(token: string): ApiPrincipal | undefined {
    if (tokenMatches(token, this.adminHash)) return { name: ADMIN_NAME, admin: true };
    const row = this.opened.db
      .select()
      .from(apiUsers)
      .where(eq(apiUsers.tokenHash, hashToken(token)))
      .get();
    return row ? { name: row.name, admin: row.admin } : undefined;
  }

  create(name: string, admin: boolean): { name: string; admin: boolean; token: string } {
    if (!NAME_RE.test(name)) {
      throw new MvmError(
        'USAGE',
        `user name ${JSON.stringify(name.slice(0, 80))}: use 1 to 64 characters of letters, digits and . _ @ -, starting with a letter or digit`,
      );
    }
    if (name === ADMIN_NAME)
      throw new MvmError('CONFLICT', `"${ADMIN_NAME}" is the name of the admin token`, { hint: 'pick another name' });
    const token = newToken();
    const tx = this.opened.sqlite.transaction(() => {
      if (this.opened.db.select().from(apiUsers).where(eq(apiUsers.name, name)).get()) {
        throw new MvmError('CONFLICT', `user ${name} already exists`, {
          hint: 'pick another name; a lost token cannot be shown again',
        });
      }
      this.opened.db
        .insert(apiUsers)
        .values({ name, tokenHash: hashToken(token), admin, createdAt: this.now() })
        .run();
      journal(this.opened.db, this.now(), 'api-user-created', `API user ${name} created${admin ? ' (admin)' : ''}`);
    });
    tx.immediate();
    return { name, admin, token };
  }

  /** Whether `name` may hold things (a reservation): the admin or an existing user. */
  exists(name: string): boolean {
    return (
      name === ADMIN_NAME ||
      this.opened.db.select({ name: apiUsers.name }).from(apiUsers).where(eq(apiUsers.name, name)).get() !== undefined
    );
  }

  /** Removes a user: its token no longer authenticates. */
  remove(name: string, by: string): { name: string; admin: boolean; createdAt: number } {
    const tx = this.opened.sqlite.transaction(() => {
      const row = this.opened.db.select().from(apiUsers).where(eq(apiUsers.name, name)).get();
      if (!row)
        throw new MvmError('NOT_FOUND', `no API user ${JSON.stringify(name)}`, {
          hint: 'mvm testbeds user list shows the users',
        });
      this.opened.db.delete(apiUsers).where(eq(apiUsers.name, name)).run();
      journal(
        this.opened.db,
        this.now(),
        'api-user-removed',
        `API user ${name} removed by ${by}; its token no longer works`,
      );
      return { name: row.name, admin: row.admin, createdAt: row.createdAt };
    });
    return tx.immediate();
  }

  list(): Array<{ name: string; admin: boolean; createdAt: number }> {
    return this.opened.db
      .select({ name: apiUsers.name, admin: apiUsers.admin, createdAt: apiUsers.createdAt })
      .from(apiUsers)
      .all();
  }
}
