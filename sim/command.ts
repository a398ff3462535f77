// `mvm sim`: simulated devices for tests, benches and demos — AxeOS (Bitaxe, NerdQAxe++) over
// HTTP, cgminer (Avalon Nano 3/3S) over TCP, NMMiner over UDP, and a whole lab from a factory TOML.
// Options are defined here; the work is imported lazily so `mvm --help` stays fast.
import type { Argv, CommandModule } from 'yargs';
import { defineCommand, demandedPositional } from '../cli/command.js';

const FAULT_DESC =
  'inject a fault, name[=value], repeatable: slow[=ms], drop[=ratio], flash-fail, brick, reboot-loop[=ms], overheat[=°C/s], low-hashrate[=ratio]';

function faultOption<T>(y: Argv<T>) {
  return y.option('fault', { type: 'string', array: true, default: [] as string[], describe: FAULT_DESC });
}

const axeos = defineCommand({
  command: 'axeos',
  describe: 'simulate an AxeOS miner (Bitaxe, NerdQAxe++) over HTTP',
  builder: (y) =>
    faultOption(
      y
        .option('listen', {
          type: 'string',
          default: '127.0.0.1:0',
          describe: 'HOST:PORT to listen on (port 0 picks one)',
        })
        .option('board', {
          type: 'string',
          default: '601',
          describe: 'board: 102, 201-205, 302-303, 400-403, 600-602, 701-702, 800, nerdqaxe++',
        })
        .option('firmware', {
          type: 'string',
          describe: 'running firmware version (default v2.15.0; NerdQAxe v1.0.30)',
        })
        .option('boot-ms', {
          type: 'number',
          default: 1500,
          describe: 'how long a reboot keeps the device unreachable',
        }),
    ),
  handler: async (args) => {
    const { runAxeos } = await import('./run.js');
    await runAxeos(args);
  },
});

const cgminer = defineCommand({
  command: 'cgminer',
  describe: 'simulate an Avalon Nano 3/3S cgminer API over TCP',
  builder: (y) =>
    faultOption(
      y
        .option('listen', {
          type: 'string',
          default: '127.0.0.1:0',
          describe: 'HOST:PORT to listen on (the real port is 4028)',
        })
        .option('model', {
          type: 'string',
          choices: ['nano3', 'nano3s'] as const,
          default: 'nano3s' as const,
          describe: 'Avalon model',
        })
        .option('firmware', {
          type: 'string',
          describe: 'firmware build, e.g. 25021401_56abae7 (builds from 2505 on use "MM ID0:Summary")',
        })
        .option('quirks', { type: 'boolean', default: false, describe: 'send the malformed JSON real Avalons send' })
        .option('without-softoff', {
          type: 'boolean',
          default: false,
          describe: 'a 3S build without softoff in its command table',
        })
        .option('softon-silent', {
          type: 'boolean',
          default: false,
          describe: 'softon closes the connection without a reply (it still works)',
        })
        .option('boot-ms', {
          type: 'number',
          default: 3000,
          describe: 'how long a reboot keeps the device unreachable',
        }),
    ),
  handler: async (args) => {
    const { runCgminer } = await import('./run.js');
    await runCgminer(args);
  },
});

const nmminer = defineCommand({
  command: 'nmminer',
  describe: 'simulate an NMMiner: UDP telemetry broadcasts, config pushes and reports',
  builder: (y) =>
    faultOption(
      y
        .option('listen', {
          type: 'string',
          default: '127.0.0.1',
          describe: 'HOST[:PORT]: the device IP (port = config port, default 12347)',
        })
        .option('telemetry', {
          type: 'string',
          default: '127.0.0.1:12345',
          describe:
            'where telemetry datagrams go (127.255.255.255:PORT broadcasts them on loopback, as the firmware does)',
        })
        .option('report', { type: 'string', default: '127.0.0.1:12346', describe: 'where config reports go' })
        .option('interval', { type: 'number', default: 5000, describe: 'ms between telemetry datagrams' })
        .option('key-case', {
          type: 'string',
          choices: ['upper', 'lower', 'nmaxe'] as const,
          default: 'upper' as const,
          describe: 'v0.3 (IP, HashRate "113.13K"), newer (ip, "1.0154MH/s") or NMAxe datagrams',
        }),
    ),
  handler: async (args) => {
    const { runNmminer } = await import('./run.js');
    await runNmminer(args);
  },
});

const lab = defineCommand({
  command: 'lab',
  describe: 'start a simulator for every device with a `sim` table in a factory TOML',
  builder: (y) => y.option('file', { alias: 'f', type: 'string', demandOption: true, describe: 'factory TOML' }),
  handler: async (args) => {
    const { runLab } = await import('./run.js');
    await runLab(args);
  },
});

const octopus = defineCommand({
  command: 'octopus',
  describe: 'simulate the Octopus Energy Agile price API (half-hourly UK prices) over HTTP',
  builder: (y) =>
    y
      .option('listen', {
        type: 'string',
        default: '127.0.0.1:0',
        describe: 'HOST:PORT to listen on (port 0 picks one)',
      })
      .option('region', { type: 'string', default: 'C', describe: 'GSP region letter A–P (no I, no O)' })
      .option('product', { type: 'string', default: 'AGILE-24-10-01', describe: 'the product code served' })
      .option('now', { type: 'string', describe: 'a fixed simulated time (ISO 8601); POST /_sim/clock moves it' })
      .option('history-days', { type: 'number', default: 7, describe: 'days of past prices served' })
      .option('fault', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe:
          'inject a fault, name[=value], repeatable: slow[=ms], error[=ratio] (HTTP 500), malformed[=ratio] (broken JSON)',
      }),
  handler: async (args) => {
    const { runOctopus } = await import('./run.js');
    await runOctopus(args);
  },
});

const spRunner = defineCommand({
  command: 'sp-runner <operation> [args..]',
  describe:
    'a simulated SP testbed tool (what a `command` device runs): info, telemetry, health, restart, flash IMAGE, restore BASELINE',
  builder: (y) =>
    demandedPositional(y, 'operation', { type: 'string', describe: 'the operation' })
      .positional('args', { type: 'string', array: true, describe: "the operation's arguments" })
      .option('config', {
        type: 'string',
        demandOption: true,
        describe: 'the simulated SP state (JSON), created on first use',
      }),
  handler: async (args) => {
    const { runSpRunner } = await import('./sp-runner.js');
    process.stdout.write(runSpRunner(args.config, args.operation, (args.args ?? []).map(String)) + '\n');
  },
});

const serialFlash = defineCommand({
  command: 'serial-flash',
  describe: "write a factory image through a simulated device's serial line (the recovery path)",
  builder: (y) =>
    y
      .option('address', { type: 'string', demandOption: true, describe: 'the simulated device, http://HOST:PORT' })
      .option('image', { type: 'string', demandOption: true, describe: 'factory or app image file' }),
  handler: async (args) => {
    const { runSerialFlash } = await import('./run.js');
    await runSerialFlash(args);
  },
});

export const command: CommandModule = {
  command: 'sim',
  describe: 'run simulated devices (AxeOS, cgminer, NMMiner, a lab) and services (Octopus prices)',
  builder: (y) =>
    y
      .command(axeos)
      .command(cgminer)
      .command(nmminer)
      .command(lab)
      .command(octopus)
      .command(spRunner)
      .command(serialFlash)
      .demandCommand(1, 'name a simulator: axeos, cgminer, nmminer, lab, octopus, sp-runner or serial-flash'),
  handler: () => {},
};
