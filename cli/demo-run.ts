// The demo's work: start the server in-process, make sure the demo target and user exist, write
// the profile (mode 0600), print how to submit a job, and stop cleanly on Ctrl-C.
import TOML from '@iarna/toml';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MvmError } from '../shared/errors.js';
import { HttpClient } from '../shared/http.js';
import { newToken } from '../shared/ids.js';
import { rootLogger } from '../shared/log.js';
import { installShutdown } from '../shared/shutdown.js';
import type { Target, User } from '../shared/api/types.js';
import { parseListen } from '../server/command.js';
import { DEFAULTS } from '../server/config.js';
import { startServer } from '../server/run.js';

const TARGET = 'demo';

interface DemoProfile {
  url?: string;
  token?: string;
  admin_token?: string;
}

function readProfile(file: string): DemoProfile {
  if (!existsSync(file)) return {};
  try {
    return TOML.parse(readFileSync(file, 'utf8')) as DemoProfile;
  } catch (err) {
    throw new MvmError('CONFIG_INVALID', `cannot read the demo profile ${file}: ${(err as Error).message}`, {
      hint: 'delete it (the demo makes a new one) or pick another --data folder',
    });
  }
}

export async function runDemo(dataArg: string, listen: string): Promise<void> {
  const dataDir = resolve(dataArg);
  mkdirSync(dataDir, { recursive: true });
  const profileFile = join(dataDir, 'profile.toml');
  const old = readProfile(profileFile);
  const adminToken = old.admin_token ?? newToken();
  const log = rootLogger();
  const shutdown = installShutdown(log);
  const { host, port } = parseListen(listen);
  const server = await startServer({ ...DEFAULTS, dataDir: join(dataDir, 'server'), host, port }, { log, adminToken });
  try {
    const admin = new HttpClient({ baseUrl: server.url, token: adminToken });
    const targets = await admin.get<Target[]>('/0/admin/targets');
    if (!targets.some((t) => t.name === TARGET)) {
      await admin.post('/0/admin/target', { name: TARGET, desc: 'the demo target (simulated testbeds)' });
    }
    let token = old.token;
    const stillValid = token
      ? await new HttpClient({ baseUrl: server.url, token }).get<User>('/0/whoami').then(() => true, () => false)
      : false;
    if (!stillValid) {
      const taken = new Set((await admin.get<User[]>('/0/users')).map((u) => u.name));
      let name = 'demo';
      for (let i = 2; taken.has(name); i++) name = `demo${i}`;
      token = (await admin.post<{ token: string }>('/0/users', { name })).token;
    }
    writeFileSync(profileFile, TOML.stringify({ url: server.url, token: token!, admin_token: adminToken }), { mode: 0o600 });
    chmodSync(profileFile, 0o600);
    const script = join(dataDir, 'hello.sh');
    if (!existsSync(script)) {
      writeFileSync(script, '#!/bin/bash\nset -o errexit\necho "hello from job $BUILDOMAT_JOB_ID"\nmkdir -p "$MVM_OUTPUT_DIR"\ndate > "$MVM_OUTPUT_DIR/when.txt"\n', { mode: 0o755 });
    }
    process.stdout.write(
      [
        `mvm server listening on ${server.url}`,
        `mvm demo: job server at ${server.url}, state in ${dataDir}`,
        `  target:  ${TARGET}`,
        `  tokens:  ${profileFile} (url, user token, admin token; mode 0600)`,
        `  submit a job:`,
        `    MVM_PROFILE=${profileFile} npx mvm job run --target ${TARGET} --script ${script} --wait`,
        `  no factory serves "${TARGET}" yet, so a job stays queued until one does.`,
        `  press Ctrl-C to stop.`,
        '',
      ].join('\n'),
    );
    await new Promise<void>((r) => shutdown.graceful.addEventListener('abort', () => r(), { once: true }));
  } finally {
    await server.close();
    shutdown.dispose();
  }
  process.stdout.write('mvm demo: stopped\n');
}
