// Who may use the fleet's API. The admin token: [fleet] admin_token_file, else MVM_FLEET_API_TOKEN,
// else a file `fleet-api-admin-token` in --data made on first start (0600) — never logged. More
// tokens (role "read": GET only, or "admin") are made through the API; only their hashes are kept,
// in `fleet-api-tokens.json` beside it (0600).
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MvmError } from '../../shared/errors.js';
import { hashToken, newToken, tokenMatches } from '../../shared/ids.js';

export type Role = 'admin' | 'read';

export interface Principal {
  name: string;
  role: Role;
}

export const FLEET_ADMIN_TOKEN_FILE = 'fleet-api-admin-token';
export const FLEET_TOKENS_FILE = 'fleet-api-tokens.json';
const ADMIN = 'admin';

interface StoredToken {
  name: string;
  role: Role;
  hash: string;
  createdAt: string;
}

function readSecret(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new MvmError('CONFIG_INVALID', `cannot read ${what} ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: 'check the path and its permissions',
    });
  }
  if (text === '')
    throw new MvmError('CONFIG_INVALID', `${what} ${file} is empty`, {
      hint: 'write a token into it, or delete it (a new one is made)',
    });
  return text;
}

/** The token in `file`, made there (0600) when the file does not exist yet. */
function tokenFile(file: string): { token: string; source: string; created: boolean } {
  if (existsSync(file)) return { token: readSecret(file, 'the admin token file'), source: file, created: false };
  const token = newToken();
  writeFileSync(file, token + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, source: file, created: true };
}

/** The admin token and where it came from (never the token itself in `source`). */
export function fleetAdminToken(opts: { file?: string; env?: Record<string, string | undefined>; dataDir: string }): {
  token: string;
  source: string;
  created: boolean;
} {
  if (opts.file) return tokenFile(opts.file);
  const fromEnv = (opts.env ?? process.env).MVM_FLEET_API_TOKEN;
  if (fromEnv) return { token: fromEnv, source: 'MVM_FLEET_API_TOKEN', created: false };
  return tokenFile(join(opts.dataDir, FLEET_ADMIN_TOKEN_FILE));
}

export class FleetTokens {
  private adminHash: string;
  private stored: StoredToken[];
  private readonly file: string;

  constructor(adminToken: string, dataDir: string) {
    this.adminHash = hashToken(adminToken);
    this.file = join(dataDir, FLEET_TOKENS_FILE);
    this.stored = existsSync(this.file) ? this.load() : [];
  }

  private load(): StoredToken[] {
    try {
      const v = JSON.parse(readFileSync(this.file, 'utf8')) as StoredToken[];
      if (!Array.isArray(v)) throw new Error('not a list');
      return v;
    } catch (err) {
      throw new MvmError('CONFIG_INVALID', `the API token list ${this.file} is unreadable: ${(err as Error).message}`, {
        hint: 'restore it from a backup, or delete it (every made token is then revoked)',
      });
    }
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.stored, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  /** A new admin token (SIGHUP with another admin_token_file). */
  setAdmin(token: string): void {
    this.adminHash = hashToken(token);
  }

  authenticate(token: string): Principal | undefined {
    if (tokenMatches(token, this.adminHash)) return { name: ADMIN, role: 'admin' };
    const t = this.stored.find((s) => tokenMatches(token, s.hash));
    return t ? { name: t.name, role: t.role } : undefined;
  }

  list(): Array<{ name: string; role: Role; createdAt: string }> {
    return this.stored.map(({ name, role, createdAt }) => ({ name, role, createdAt }));
  }

  create(name: string, role: Role): { name: string; role: Role; token: string } {
    if (name === ADMIN || this.stored.some((s) => s.name === name))
      throw new MvmError('CONFLICT', `a token named ${name} exists`, {
        hint: 'pick another name; a lost token cannot be shown again (revoke it and make a new one)',
      });
    const token = newToken();
    this.stored.push({ name, role, hash: hashToken(token), createdAt: new Date().toISOString() });
    this.save();
    return { name, role, token };
  }

  revoke(name: string): void {
    const before = this.stored.length;
    this.stored = this.stored.filter((s) => s.name !== name);
    if (this.stored.length === before)
      throw new MvmError('NOT_FOUND', `no token named ${JSON.stringify(name)}`, { hint: 'GET /api/tokens lists them' });
    this.save();
  }
}
