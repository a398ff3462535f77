// `mvm runner`: what CI job scripts call to flash, test, control and read the devices of their
// testbed. Options are defined here; the work is imported only when a command runs.
import type { Argv, CommandModule } from 'yargs';
import { defineCommand, demandedPositional } from '../cli/command.js';
import { durationFlag } from '../shared/duration.js';

export interface DeviceArgs {
  testbed?: string;
  device?: string;
  driver?: string;
  address?: string;
  option?: string[];
  json?: boolean;
  'ignore-lock'?: boolean;
}

const IGNORE_LOCK = {
  type: 'boolean',
  default: false,
  describe: 'act even though someone else holds the testbed (emergencies only; journalled by the factory)',
} as const;

const PROGRESS_EVERY = durationFlag.msOption(
  'progress-every',
  'how often a long wait (upload, reboot, restart, check window) prints where it is (default 10s)',
);

function deviceOptions<T>(y: Argv<T>): Argv<T & DeviceArgs> {
  return y
    .option('testbed', {
      type: 'string',
      describe: 'testbed description file (default: $MVM_TESTBED)',
      group: 'Device:',
    })
    .option('device', {
      type: 'string',
      describe: 'device name in the testbed (default: the only device)',
      group: 'Device:',
    })
    .option('driver', {
      type: 'string',
      choices: ['axeos', 'cgminer', 'nmminer', 'command'],
      describe: 'address a device directly: its driver',
      group: 'Device:',
    })
    .option('address', {
      type: 'string',
      describe: 'address a device directly: http://HOST[:PORT] (axeos), HOST:PORT (cgminer), HOST[:PORT] (nmminer)',
      group: 'Device:',
    })
    .option('option', {
      type: 'string',
      array: true,
      describe: 'driver option KEY=VALUE (repeatable; VALUE may be JSON)',
      group: 'Device:',
    })
    .option('ignore-lock', IGNORE_LOCK)
    .option('json', { type: 'boolean', default: false, describe: 'print machine-readable JSON' });
}

const flash = defineCommand({
  command: 'flash',
  describe: 'check a firmware image against the device, upload it, wait for the reboot and verify; recover on failure',
  builder: (y) =>
    deviceOptions(y)
      .option('image', { type: 'string', demandOption: true, describe: 'the firmware app image (ESP32 .bin)' })
      .option('force-family', {
        type: 'boolean',
        describe:
          'flash an image whose family (Bitaxe, NerdQAxe++) is unknown: neither stated in IMAGE.json nor in its name',
      })
      .option(
        'poll-interval',
        durationFlag.msOption('poll-interval', 'between polls while the device reboots (default 5s)'),
      )
      .option(
        'reboot-timeout',
        durationFlag.msOption('reboot-timeout', 'how long the device may take to come back (default 3m)'),
      )
      .option(
        'settle',
        durationFlag.msOption('settle', 'how long the device must stay up on the new image (default 15s)'),
      )
      .option('progress-every', PROGRESS_EVERY),
  handler: async (args) => {
    const { runFlash } = await import('./cli/flash.js');
    await runFlash(args);
  },
});

const control = defineCommand({
  command: 'control <action> [args..]',
  describe: 'restart | pause | resume | mode M | frequency MHZ | voltage MV | fan PCT | pools set … | pools switch N',
  builder: (y) =>
    demandedPositional(deviceOptions(y), 'action', {
      type: 'string',
      describe: 'restart, pause, resume, mode, frequency, voltage, fan, pools',
    })
      .positional('args', { type: 'string', array: true, describe: "the action's values" })
      .option('pool-url', {
        type: 'string',
        array: true,
        describe: 'pools set: pool URL stratum+tcp://HOST:PORT (repeat per pool)',
      })
      .option('url', { type: 'string', array: true, hidden: true, describe: 'deprecated spelling of --pool-url' })
      .option('user', { type: 'string', array: true, describe: 'pools set: pool user/worker (one per --pool-url)' })
      .option('password', {
        type: 'string',
        array: true,
        describe: 'pools set: pool password (one per --pool-url, default x)',
      })
      .option('wait', {
        type: 'boolean',
        describe: 'restart: return when the device answers again (fails at --timeout)',
      })
      .option(
        'timeout',
        durationFlag.msOption(
          'timeout',
          'restart --wait: how long the device may take to come back, e.g. 2m (default: device option reboot_timeout_ms, else 3m)',
        ),
      )
      .option('progress-every', PROGRESS_EVERY)
      .example('$0 runner control mode eco', '')
      .example('$0 runner control restart --wait --timeout 2m', '')
      .example('$0 runner control pools set --pool-url stratum+tcp://pool:3333 --user bc1q…worker', '')
      .example('$0 runner control pools switch 1', ''),
  handler: async (args) => {
    const { runControl } = await import('./cli/control.js');
    await runControl(args);
  },
});

const telemetry = defineCommand({
  command: 'telemetry',
  describe:
    'read telemetry in the normalised schema (hashrate GH/s, power W, J/TH, temperatures, fans, shares, uptime, firmware)',
  builder: (y) =>
    deviceOptions(y)
      .option('watch', { type: 'boolean', default: false, describe: 'keep reading until interrupted' })
      .option('interval', {
        ...durationFlag.msOption('interval', 'between readings with --watch (real devices: 5s or more)'),
        default: '5s',
      })
      .option('count', { type: 'number', describe: 'with --watch: stop after this many readings' }),
  handler: async (args) => {
    const { runTelemetry } = await import('./cli/telemetry.js');
    await runTelemetry(args);
  },
});

const info = defineCommand({
  command: 'info',
  describe: 'identify the device: model, hardware, firmware version',
  builder: (y) => deviceOptions(y),
  handler: async (args) => {
    const { runInfo } = await import('./cli/info.js');
    await runInfo(args);
  },
});

const firmwareDirOption = {
  type: 'string',
  describe: "the firmware library folder (default: the testbed description's firmware_dir, else $MVM_FIRMWARE_DIR)",
} as const;

const test = defineCommand({
  command: 'test',
  describe: 'run a test definition (JSON/YAML: script, devices, checks) on the testbed; results as JSON and JUnit XML',
  builder: (y) =>
    y
      .option('spec', { type: 'string', demandOption: true, describe: 'the test definition file (.json, .yaml)' })
      .option('output', { type: 'string', describe: 'results folder (default: $MVM_OUTPUT_DIR, else ./mvm-results)' })
      .option('testbed', { type: 'string', describe: 'testbed description file (default: $MVM_TESTBED)' })
      .option(
        'poll',
        durationFlag.msOption('poll', 'between telemetry samples for the checks, e.g. 1s (overrides the definition)'),
      )
      .option('progress-every', PROGRESS_EVERY)
      .option('firmware-dir', firmwareDirOption)
      .option('ignore-lock', IGNORE_LOCK)
      .option('json', { type: 'boolean', default: false, describe: 'print the results as JSON' }),
  handler: async (args) => {
    const { runTestCommand } = await import('./cli/test.js');
    await runTestCommand(args);
  },
});

function testbedOptions<T>(y: Argv<T>) {
  return y
    .option('testbed', { type: 'string', describe: 'testbed description file (default: $MVM_TESTBED)' })
    .option('device', { type: 'string', describe: 'only this device (default: every device of the testbed)' })
    .option('ignore-lock', IGNORE_LOCK)
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object on stdout' });
}

const restore = defineCommand({
  command: 'restore',
  describe:
    "bring the testbed's devices back to their baseline: firmware (from the library), pools, settings; exit 1 when one could not be",
  builder: (y) => testbedOptions(y).option('firmware-dir', firmwareDirOption).option('progress-every', PROGRESS_EVERY),
  handler: async (args) => {
    const { runRestore } = await import('./cli/restore.js');
    await runRestore(args);
  },
});

const health = defineCommand({
  command: 'health',
  describe:
    "check the testbed's devices: they answer, run their baseline firmware, hash near the expected rate, stay cool; exit 1 when unhealthy",
  builder: (y) =>
    testbedOptions(y)
      .option('window', { type: 'string', describe: 'how long to sample telemetry (default 15s)' })
      .option('samples', { type: 'number', describe: 'telemetry readings spread over the window (default 3)' })
      .option('hashrate-tolerance', {
        type: 'number',
        describe: 'how far below the expected hashrate is healthy, 0..1 (default 0.2: at least 80 %)',
      })
      .option('max-temperature', {
        type: 'number',
        describe: 'the highest healthy temperature, °C (default 80)',
      }),
  handler: async (args) => {
    const { runHealth } = await import('./cli/health.js');
    await runHealth(args);
  },
});

export const command: CommandModule = {
  command: 'runner',
  describe: 'flash, test, control and read devices',
  builder: (y) =>
    y
      .command(flash)
      .command(control)
      .command(telemetry)
      .command(info)
      .command(test)
      .command(restore)
      .command(health)
      .demandCommand(1, 'name a runner command: flash, control, telemetry, info, test, restore or health')
      // A person reads the runner's log (in a job log, or a terminal): plain lines, never pino JSON.
      .middleware(async () => {
        const { createLogger, setRootLogger } = await import('../shared/log.js');
        setRootLogger(createLogger({ plain: true }));
      }),
  handler: () => {},
};
