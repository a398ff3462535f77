#!/usr/bin/env node
// The `mvm` executable: runs the compiled CLI (built by `npm ci` through the prepare script). The
// client commands start from the one-file client bundle (cli/build.mjs) when it is there and not
// older than dist/cli/main.js (a bare `tsc` ran since); everything else from dist/cli/main.js.
// A client-only install (package.json, bin/mvm.js, dist/cli/mvm-client.js: doc/ci.md) has only
// the bundle.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLIENT_COMMANDS = ['job', 'testbeds', 'admin', 'status', 'whoami', '--version'];

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const client = fileURLToPath(new URL('../dist/cli/mvm-client.js', import.meta.url));
const hasMain = existsSync(main);
const hasClient = existsSync(client);
const light =
  CLIENT_COMMANDS.includes(process.argv[2]) &&
  hasClient &&
  (!hasMain || statSync(client).mtimeMs >= statSync(main).mtimeMs);
if (!light && !hasMain) {
  process.stderr.write(
    hasClient
      ? `mvm: this is a client-only install: its commands are ${CLIENT_COMMANDS.filter((c) => !c.startsWith('-')).join(', ')}\n`
      : 'mvm: dist/cli/main.js is missing; run `npm ci` (or `npm run build`) in the checkout first\n',
  );
  process.exit(hasClient ? 2 : 1);
}
await import(new URL(light ? '../dist/cli/mvm-client.js' : '../dist/cli/main.js', import.meta.url).href);
