// `mvm sim lab -f factory.toml`: a simulator for every testbed device that has a `sim` table, at
// the device's own address. Only what that needs is read from the file (the factory validates the
// rest); every problem found is reported together, before anything starts.
import { readFile } from 'node:fs/promises';
import TOML from '@iarna/toml';
import { ConfigError, MvmError, type ConfigProblem } from '../shared/errors.js';
import { parseDestination, parseListen } from './common/address.js';
import { parseFaults } from './common/faults.js';
import { findBoard } from './axeos/boards.js';

export type SimKind = 'axeos' | 'cgminer' | 'nmminer';

export interface LabDevice {
  testbed: string;
  name: string;
  kind: SimKind;
  /** What the readiness line shows: the URL (axeos) or HOST:PORT. */
  address: string;
}

export interface Lab {
  devices: LabDevice[];
  close(): Promise<void>;
}

interface Planned {
  testbed: string;
  name: string;
  kind: SimKind;
  start: () => Promise<{ address: string; close(): Promise<void> }>;
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(v: unknown): string[] | undefined {
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

/** Reads the devices to simulate from a parsed factory config; collects problems instead of throwing. */
export function planLab(config: Table, file: string): { planned: Planned[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const planned: Planned[] = [];
  const testbeds = isTable(config.testbed) ? config.testbed : {};
  for (const [tb, tbody] of Object.entries(testbeds)) {
    if (!isTable(tbody) || !isTable(tbody.devices)) continue;
    for (const [name, dev] of Object.entries(tbody.devices)) {
      if (!isTable(dev) || dev.sim === undefined) continue;
      const key = `testbed.${tb}.devices.${name}`;
      const problem = (k: string, message: string, hint?: string) =>
        problems.push({ file, key: `${key}${k}`, message, hint });
      if (!isTable(dev.sim)) {
        problem('.sim', 'must be a table', 'for example sim = { board = "601", firmware = "v2.9.0" }');
        continue;
      }
      const sim = dev.sim;
      const driver = dev.driver;
      if (typeof dev.address !== 'string' || dev.address === '') {
        problem('.address', 'a simulated device needs an address to listen on');
        continue;
      }
      const faultSpecs = strings(sim.faults ?? sim.fault);
      if (faultSpecs === undefined) {
        problem('.sim.faults', 'must be a list of "name[=value]" strings');
        continue;
      }
      try {
        parseFaults(faultSpecs);
      } catch (err) {
        problem('.sim.faults', (err as Error).message, (err as MvmError).hint);
        continue;
      }
      const address = dev.address;
      const options = isTable(dev.options) ? dev.options : {};
      try {
        if (driver === 'axeos') {
          const listen = parseListen(address, 80);
          const board = String(sim.board ?? dev.hardware ?? '601');
          findBoard(board);
          const firmware =
            typeof sim.firmware === 'string'
              ? sim.firmware
              : typeof dev.software === 'string'
                ? dev.software
                : undefined;
          planned.push({
            testbed: tb,
            name,
            kind: 'axeos',
            start: async () => {
              const { startAxeosSim } = await import('./axeos/index.js');
              const s = await startAxeosSim({
                listen: `${listen.host}:${listen.port}`,
                board,
                firmware,
                faults: faultSpecs,
                seed: `${tb}/${name}`,
                bootMs: typeof sim.boot_ms === 'number' ? sim.boot_ms : undefined,
              });
              return { address: s.url, close: s.close };
            },
          });
        } else if (driver === 'cgminer') {
          const listen = parseListen(address, 4028);
          const model = String(
            sim.model ??
              (String(dev.hardware ?? '')
                .toLowerCase()
                .replace(/[^a-z0-9]/g, '')
                .replace(/^avalon/, '') ||
                'nano3s'),
          );
          if (model !== 'nano3' && model !== 'nano3s') {
            problem('.sim.model', `unknown Avalon model "${model}"`, 'use "nano3" or "nano3s"');
            continue;
          }
          planned.push({
            testbed: tb,
            name,
            kind: 'cgminer',
            start: async () => {
              const { startCgminerSim } = await import('./cgminer/index.js');
              const s = await startCgminerSim({
                listen: `${listen.host}:${listen.port}`,
                model,
                quirks: sim.quirks === true,
                faults: faultSpecs,
                seed: `${tb}/${name}`,
                firmware:
                  typeof sim.firmware === 'string'
                    ? sim.firmware
                    : typeof dev.software === 'string' && /^\d{8}_/.test(dev.software)
                      ? dev.software
                      : undefined,
                bootMs: typeof sim.boot_ms === 'number' ? sim.boot_ms : undefined,
              });
              return { address: s.address, close: s.close };
            },
          });
        } else if (driver === 'nmminer') {
          const configPort = typeof options.config_port === 'number' ? options.config_port : 12347;
          const listen = parseListen(address, configPort);
          const telemetryPort = typeof options.telemetry_port === 'number' ? options.telemetry_port : 12345;
          const reportPort = typeof options.report_port === 'number' ? options.report_port : 12346;
          const telemetry = typeof sim.telemetry === 'string' ? sim.telemetry : `127.0.0.1:${telemetryPort}`;
          const report = typeof sim.report === 'string' ? sim.report : `127.0.0.1:${reportPort}`;
          parseDestination(telemetry, 12345);
          parseDestination(report, 12346);
          planned.push({
            testbed: tb,
            name,
            kind: 'nmminer',
            start: async () => {
              const { startNmminerSim } = await import('./nmminer/index.js');
              const s = await startNmminerSim({
                listen: `${listen.host}:${listen.port}`,
                telemetry,
                report,
                intervalMs: typeof sim.interval_ms === 'number' ? sim.interval_ms : undefined,
                keyCase: sim.key_case === 'lower' || sim.key_case === 'nmaxe' ? sim.key_case : 'upper',
                faults: faultSpecs,
              });
              return { address: s.address, close: s.close };
            },
          });
        } else {
          problem(
            '.driver',
            `no simulator for driver "${String(driver)}"`,
            'sim tables are read for axeos, cgminer and nmminer devices',
          );
        }
      } catch (err) {
        problem('', (err as Error).message, (err as MvmError).hint);
      }
    }
  }
  return { planned, problems };
}

export async function startLab(file: string): Promise<Lab> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new MvmError('CONFIG_INVALID', `cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: 'give the factory TOML with -f',
    });
  }
  let config: Table;
  try {
    config = TOML.parse(text) as Table;
  } catch (err) {
    throw new ConfigError([
      {
        file,
        key: '(file)',
        message: `not valid TOML: ${(err as Error).message}`,
        hint: 'fix the syntax error and run again',
      },
    ]);
  }
  const { planned, problems } = planLab(config, file);
  if (problems.length) throw new ConfigError(problems);
  if (planned.length === 0) {
    throw new MvmError('CONFIG_INVALID', `${file} has no device with a sim table`, {
      hint: 'add sim = { … } to the devices to simulate, e.g. sim = { board = "601", firmware = "v2.9.0" }',
    });
  }
  const started: { device: LabDevice; close(): Promise<void> }[] = [];
  try {
    for (const p of planned) {
      const s = await p.start();
      started.push({ device: { testbed: p.testbed, name: p.name, kind: p.kind, address: s.address }, close: s.close });
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    const failed = planned[started.length]!;
    throw new MvmError(
      'CONFIG_INVALID',
      `cannot start the simulator for testbed.${failed.testbed}.devices.${failed.name}: ${(err as Error).message}`,
      {
        cause: err,
        hint: 'is another process listening on that address? pick a free port in the device address',
      },
    );
  }
  return {
    devices: started.map((s) => s.device),
    close: async () => void (await Promise.all(started.map((s) => s.close()))),
  };
}
