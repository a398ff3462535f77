#!/usr/bin/env node
// The `mvm` executable: runs the compiled CLI (built by `npm ci` through the prepare script). The
// client commands start from the one-file client bundle when it was built (cli/build.mjs), the
// others (and a command line that starts with an option other than --version) from dist/cli/main.js.
// A bundle older than main.js (tsc ran again, the bundle was not rebuilt) is not used.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLIENT_COMMANDS = ['job', 'testbeds', 'admin', 'status', 'whoami', '--version'];

const main = new URL('../dist/cli/main.js', import.meta.url);
const client = new URL('../dist/cli/mvm-client.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('mvm: dist/cli/main.js is missing; run `npm ci` (or `npm run build`) in the checkout first\n');
  process.exit(1);
}
const fresh = () => {
  try {
    return statSync(client).mtimeMs >= statSync(main).mtimeMs;
  } catch {
    return false;
  }
};
const light = CLIENT_COMMANDS.includes(process.argv[2]) && fresh();
await import(light ? client.href : main.href);
