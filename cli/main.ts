// The `mvm` entry point: every command (bin/mvm.js starts the client bundle instead for the client
// commands, when it was built: cli/client-main.ts).
import { runCli } from './run-cli.js';

runCli({
  server: () => import('../server/command.js'),
  factory: () => import('../factory/command.js'),
  fleet: () => import('../fleet/command.js'),
  agent: () => import('../agent/command.js'),
  runner: () => import('../runner/command.js'),
  sim: () => import('../sim/command.js'),
  job: () => import('./job.js'),
  testbeds: () => import('./testbeds.js'),
  admin: () => import('./admin.js'),
  status: () => import('./status.js'),
  whoami: () => import('./whoami.js'),
  demo: () => import('./demo.js'),
});
