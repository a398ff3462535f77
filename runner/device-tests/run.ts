// `mvm runner test`: assign testbed devices to the definition's devices, run the script with the
// devices in its environment, run the checks, write results.json and junit.xml.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { describeError, isAbortError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { describeExit, execArgv } from '../../shared/exec.js';
import { createDriver } from '../drivers/registry.js';
import type { DeviceSpec, Driver } from '../drivers/types.js';
import { assignDevices, type Assignment } from './assign.js';
import { judgeWindow, sampleWindow, surviveRestart, type CheckResult, type Sample } from './checks.js';
import { junitXml, type JunitCase } from './junit.js';
import { prepareDevices, type PreparationStep } from './prepare.js';
import { every, PROGRESS_EVERY_MS, sampleLine } from './progress-lines.js';
import { scriptArgv } from './script.js';
import type { TestSpec } from './spec.js';

export interface ScriptResult {
  /** "script hashrate.sh": as the definition names it, without the job's folders, so it is the same in every run. */
  name: string;
  argv: string[];
  ok: boolean;
  exitCode: number | null;
  message: string;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
}

export interface TestReport {
  name: string;
  spec: string;
  ok: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  assignments: Array<{ spec: string; device: string; driver: string; address: string; hardware: string | null }>;
  /** Devices brought to the software their spec names, before the script. */
  preparation: PreparationStep[];
  script: ScriptResult | null;
  checks: CheckResult[];
  /** Set when the run itself broke (a device driver could not be set up, the run was aborted). */
  error?: string;
  outputDir: string;
}

export interface RunTestOptions {
  spec: TestSpec;
  devices: DeviceSpec[];
  outputDir: string;
  signal?: AbortSignal;
  log?: Logger;
  /** Where the script's output is echoed live (default: this process's stderr). */
  echo?: NodeJS.WritableStream | null;
  /** Where the script's stdout is echoed, when not with its stderr in `echo` (a script's stdout stays stdout). */
  echoStdout?: NodeJS.WritableStream | null;
  /** Overrides the definition's poll interval (for simulators). */
  pollMs?: number;
  /** How often a long step (flash, check window, restart) says where it is in the log (default 10 s). */
  progressEveryMs?: number;
  /** The firmware library, for devices whose spec names software but no image. */
  firmwareDir?: string;
  /** Injected for tests. */
  driverFor?: (device: DeviceSpec) => Driver;
  env?: NodeJS.ProcessEnv;
}

const envName = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]+/g, '_');

/** The environment a script sees: every assigned device by index and by spec name. */
export function deviceEnv(assignments: Assignment[], outputDir: string): Record<string, string> {
  const env: Record<string, string> = {
    MVM_DEVICE_COUNT: String(assignments.length),
    MVM_TEST_OUTPUT_DIR: outputDir,
    MVM_DEVICES_JSON: JSON.stringify(
      assignments.map((a) => ({
        spec: a.spec.name,
        name: a.device.name,
        driver: a.device.driver,
        address: a.device.address,
        hardware: a.device.hardware ?? null,
      })),
    ),
  };
  assignments.forEach((a, i) => {
    for (const prefix of [`MVM_DEVICE_${i}`, `MVM_DEVICE_${envName(a.spec.name)}`]) {
      env[`${prefix}_NAME`] = a.device.name;
      env[`${prefix}_ADDRESS`] = a.device.address;
      env[`${prefix}_DRIVER`] = a.device.driver;
      env[`${prefix}_HARDWARE`] = a.device.hardware ?? '';
    }
  });
  if (assignments.length > 0) {
    env.MVM_DEVICE_NAME = assignments[0].device.name;
    env.MVM_DEVICE_ADDRESS = assignments[0].device.address;
    env.MVM_DEVICE_DRIVER = assignments[0].device.driver;
  }
  return env;
}

const tail = (s: string, n = 4000) => (s.length > n ? s.slice(s.length - n) : s);

/** The script's name in results and JUnit: its file or argv as written, absolute paths cut to their file name. */
export function scriptName(script: string | string[]): string {
  const words = (Array.isArray(script) ? script : [script]).map((w) => (isAbsolute(w) ? basename(w) : w));
  return `script ${words.join(' ')}`;
}

async function runScript(opts: RunTestOptions, assignments: Assignment[]): Promise<ScriptResult> {
  const { spec, outputDir } = opts;
  const name = scriptName(spec.script!);
  let argv: string[];
  try {
    argv = scriptArgv(spec.script!, spec.dir);
  } catch (err) {
    return {
      name,
      argv: [],
      ok: false,
      exitCode: null,
      message: describeError(err),
      durationMs: 0,
      stdoutTail: '',
      stderrTail: '',
    };
  }
  const logFile = join(outputDir, 'script.log');
  writeFileSync(logFile, '');
  const echo = opts.echo === undefined ? process.stderr : opts.echo;
  const echoOut = opts.echoStdout === undefined ? echo : opts.echoStdout;
  const onChunk = (to: NodeJS.WritableStream | null) => (c: string) => {
    appendFileSync(logFile, c);
    to?.write(c);
  };
  // The argv names the job's folders on the agent: for debugging only.
  opts.log?.debug({ argv }, 'script argv');
  opts.log?.info(`running the test ${name}`);
  const r = await execArgv(argv, {
    cwd: spec.dir,
    env: { ...(opts.env ?? process.env), ...spec.env, ...deviceEnv(assignments, outputDir) },
    timeoutMs: spec.scriptTimeoutMs,
    signal: opts.signal,
    onStdout: onChunk(echoOut),
    onStderr: onChunk(echo),
    maxCapture: 64_000,
  });
  const ok = r.code === 0 && !r.timedOut && !r.aborted;
  return {
    name,
    argv,
    ok,
    exitCode: r.code,
    message: ok ? 'exit 0' : `script ${describeExit(r)}`,
    durationMs: r.durationMs,
    stdoutTail: tail(r.stdout),
    stderrTail: tail(r.stderr),
  };
}

async function runChecks(
  opts: RunTestOptions,
  assignments: Assignment[],
  drivers: Map<string, Driver>,
): Promise<CheckResult[]> {
  const { spec } = opts;
  const pollMs = opts.pollMs ?? spec.pollMs;
  const bySpec = new Map(assignments.map((a) => [a.spec.name, a]));
  const results: CheckResult[] = [];
  const windowChecks = spec.checks.filter((c) => c.type !== 'survives_restart');
  if (windowChecks.length > 0) {
    // One sampling pass per device over the longest window any of its checks needs, in parallel.
    const need = new Map<string, number>();
    for (const c of windowChecks) {
      for (const d of c.devices) need.set(d, Math.max(need.get(d) ?? 0, (c as { windowMs: number }).windowMs));
    }
    const started = Date.now();
    opts.log?.info({ devices: [...need.keys()], pollMs }, 'sampling telemetry for the checks');
    const samples = new Map<string, Sample[]>();
    await Promise.all(
      [...need].map(async ([d, windowMs]) => {
        // A line per poll (at most one per 10 s): the log says the window is going, and how.
        const due = every(opts.progressEveryMs ?? PROGRESS_EVERY_MS);
        const onSample = (n: number, of: number, s: Sample) => {
          if (due(n === 1 || n === of)) opts.log?.info({ device: d }, `sample [${n}/${of}]: ${sampleLine(s)}`);
        };
        samples.set(d, await sampleWindow(drivers.get(d)!, { windowMs, pollMs, signal: opts.signal, onSample }));
      }),
    );
    const took = Date.now() - started;
    for (const c of windowChecks) {
      for (const d of c.devices) {
        const verdict = judgeWindow(c as Parameters<typeof judgeWindow>[0], samples.get(d)!);
        results.push({
          name: c.name,
          type: c.type,
          device: d,
          testbedDevice: bySpec.get(d)!.device.name,
          durationMs: took,
          ...verdict,
        });
      }
    }
  }
  for (const c of spec.checks) {
    if (c.type !== 'survives_restart') continue;
    for (const d of c.devices) {
      const started = Date.now();
      const verdict = await surviveRestart(drivers.get(d)!, c, {
        pollMs,
        signal: opts.signal,
        onProgress: (line) => opts.log?.info({ device: d }, `${c.name}: ${line}`),
        progressEveryMs: opts.progressEveryMs,
      });
      results.push({
        name: c.name,
        type: c.type,
        device: d,
        testbedDevice: bySpec.get(d)!.device.name,
        durationMs: Date.now() - started,
        ...verdict,
      });
    }
  }
  return results;
}

function junitCases(report: TestReport): JunitCase[] {
  const cases: JunitCase[] = [];
  for (const p of report.preparation) {
    cases.push({
      classname: `${report.name}.${p.spec}`,
      name: `prepare ${p.device}`,
      timeMs: p.durationMs,
      failure: p.ok
        ? undefined
        : { message: p.message, body: `${p.message}\nwanted: ${p.to}, running: ${p.from ?? 'unknown'}` },
      systemOut: p.ok ? p.message : undefined,
    });
  }
  // A failed preparation is already its own case.
  if (report.error && report.preparation.every((p) => p.ok))
    cases.push({ classname: report.name, name: 'run', timeMs: report.durationMs, error: { message: report.error } });
  if (report.script) {
    const s = report.script;
    cases.push({
      classname: report.name,
      name: s.name,
      timeMs: s.durationMs,
      failure: s.ok ? undefined : { message: s.message, body: `${s.message}\n--- stderr (tail) ---\n${s.stderrTail}` },
      systemOut: s.stdoutTail || undefined,
    });
  }
  for (const c of report.checks) {
    cases.push({
      classname: `${report.name}.${c.device}`,
      name: `${c.name} [${c.testbedDevice}]`,
      timeMs: c.durationMs,
      failure: c.ok ? undefined : { message: c.message, body: `${c.message}\nmeasured: ${JSON.stringify(c.measured)}` },
      systemOut: c.ok ? c.message : undefined,
    });
  }
  return cases;
}

export function writeResults(report: TestReport): { json: string; junit: string } {
  mkdirSync(report.outputDir, { recursive: true });
  const json = join(report.outputDir, 'results.json');
  const junit = join(report.outputDir, 'junit.xml');
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(
    junit,
    junitXml({
      name: report.name,
      timestamp: report.startedAt,
      timeMs: report.durationMs,
      cases: junitCases(report),
      properties: Object.fromEntries(
        report.assignments.map((a) => [`device.${a.spec}`, `${a.device} ${a.driver} ${a.address}`]),
      ),
    }),
  );
  return { json, junit };
}

/** Runs a validated test definition; assignment problems throw before anything runs. */
export async function runTest(opts: RunTestOptions): Promise<TestReport> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  // The software a spec names is brought about by flashing (below), so assignDevices' note is moot.
  const assignments = assignDevices(opts.spec.devices, opts.devices);
  mkdirSync(opts.outputDir, { recursive: true });
  const drivers = new Map<string, Driver>();
  const report: TestReport = {
    name: opts.spec.name,
    spec: opts.spec.file,
    ok: false,
    startedAt,
    finishedAt: startedAt,
    durationMs: 0,
    assignments: assignments.map((a) => ({
      spec: a.spec.name,
      device: a.device.name,
      driver: a.device.driver,
      address: a.device.address,
      hardware: a.device.hardware ?? null,
    })),
    preparation: [],
    script: null,
    checks: [],
    outputDir: opts.outputDir,
  };
  try {
    for (const a of assignments) drivers.set(a.spec.name, (opts.driverFor ?? createDriver)(a.device));
    report.preparation = await prepareDevices(assignments, drivers, {
      firmwareDir: opts.firmwareDir,
      signal: opts.signal,
      log: opts.log,
      progressEveryMs: opts.progressEveryMs,
    });
    const unprepared = report.preparation.filter((p) => !p.ok);
    if (unprepared.length > 0) {
      report.error = `not run: preparing the devices failed (${unprepared.map((p) => `${p.device}: ${p.message}`).join('; ')})`;
      return report;
    }
    if (opts.spec.script !== undefined) report.script = await runScript(opts, assignments);
    report.checks = await runChecks(opts, assignments, drivers);
  } catch (err) {
    report.error = isAbortError(err) ? `the test was aborted: ${describeError(err)}` : describeError(err);
    if (!isAbortError(err)) throw err;
  } finally {
    await Promise.all([...drivers.values()].map((d) => d.close().catch(() => undefined)));
    report.finishedAt = new Date().toISOString();
    report.durationMs = Date.now() - started;
    report.ok = report.error === undefined && (report.script?.ok ?? true) && report.checks.every((c) => c.ok);
    writeResults(report);
  }
  return report;
}
