// The `mvm sim` command handlers: start simulators, print one readiness line each, run until
// SIGTERM/SIGINT, then close everything.
import { readFile } from 'node:fs/promises';
import { MvmError } from '../shared/errors.js';
import { createLogger } from '../shared/log.js';
import { installShutdown } from '../shared/shutdown.js';
import { startAxeosSim } from './axeos/index.js';

interface Closable {
  close(): Promise<void>;
}

async function runUntilSignal(name: string, sims: Closable[]): Promise<void> {
  const log = createLogger({ name: `sim-${name}` });
  const shutdown = installShutdown(log);
  await new Promise<void>((resolve) => shutdown.graceful.addEventListener('abort', () => resolve(), { once: true }));
  await Promise.all(sims.map((s) => s.close()));
  shutdown.dispose();
}

export async function runAxeos(args: {
  listen: string;
  board: string;
  firmware?: string;
  fault: string[];
  'boot-ms': number;
}): Promise<void> {
  const sim = await startAxeosSim({
    listen: args.listen,
    board: args.board,
    firmware: args.firmware,
    faults: args.fault,
    bootMs: args['boot-ms'],
  });
  process.stdout.write(`mvm sim axeos listening on ${sim.url}\n`);
  await runUntilSignal('axeos', [sim]);
}

export async function runCgminer(args: {
  listen: string;
  model: 'nano3' | 'nano3s';
  firmware?: string;
  quirks: boolean;
  fault: string[];
  'boot-ms': number;
  'without-softoff'?: boolean;
  'softon-silent'?: boolean;
}): Promise<void> {
  const { startCgminerSim } = await import('./cgminer/index.js');
  const sim = await startCgminerSim({
    listen: args.listen,
    model: args.model,
    firmware: args.firmware,
    quirks: args.quirks,
    faults: args.fault,
    bootMs: args['boot-ms'],
    noSoftoff: args['without-softoff'],
    softonSilent: args['softon-silent'],
  });
  process.stdout.write(`mvm sim cgminer listening on ${sim.address}\n`);
  await runUntilSignal('cgminer', [sim]);
}

export async function runNmminer(args: {
  listen: string;
  telemetry: string;
  report: string;
  interval: number;
  fault: string[];
  'key-case': 'upper' | 'lower' | 'nmaxe';
}): Promise<void> {
  const { startNmminerSim } = await import('./nmminer/index.js');
  const sim = await startNmminerSim({
    listen: args.listen,
    telemetry: args.telemetry,
    report: args.report,
    intervalMs: args.interval,
    faults: args.fault,
    keyCase: args['key-case'],
  });
  process.stdout.write(`mvm sim nmminer listening on ${sim.address}\n`);
  await runUntilSignal('nmminer', [sim]);
}

export async function runLab(args: { file: string }): Promise<void> {
  const { startLab } = await import('./inventory-sims.js');
  const lab = await startLab(args.file);
  for (const d of lab.devices) process.stdout.write(`mvm sim ${d.kind} listening on ${d.address}\n`);
  await runUntilSignal('lab', [lab]);
}

export async function runOctopus(args: {
  listen: string;
  region: string;
  product: string;
  now?: string;
  'history-days': number;
  fault: string[];
}): Promise<void> {
  const { startOctopusSim } = await import('./octopus/index.js');
  let now: (() => number) | undefined;
  if (args.now !== undefined) {
    const fixed = Date.parse(args.now);
    if (!Number.isFinite(fixed))
      throw new MvmError('USAGE', `--now is not a time: "${args.now}"`, {
        hint: 'use ISO 8601, e.g. 2026-12-04T15:00:00Z',
      });
    now = () => fixed;
  }
  const sim = await startOctopusSim({
    listen: args.listen,
    region: args.region,
    product: args.product,
    now,
    historyDays: args['history-days'],
    faults: args.fault,
  });
  process.stdout.write(`mvm sim octopus listening on ${sim.url}\n`);
  await runUntilSignal('octopus', [sim]);
}

export async function runSerialFlash(args: { address: string; image: string }): Promise<void> {
  const { serialFlash } = await import('./serial-flash.js');
  let image: Buffer;
  try {
    image = await readFile(args.image);
  } catch (err) {
    throw new MvmError('IO', `cannot read image ${args.image}: ${(err as Error).message}`, {
      cause: err,
      hint: 'check the path',
    });
  }
  const result = await serialFlash(args.address, image);
  process.stdout.write(`${result.message} (version ${result.version})\n`);
}
