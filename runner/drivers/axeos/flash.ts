// AxeOS OTA: upload the app image, wait for the reboot, verify (PROTOCOLS §4: the device answers,
// its version is the image's, runningPartition changed, uptime small, and it stays up), and when
// that fails try to bring the previous firmware back — `POST /api/system/boot` to the previous
// partition (v2.15+), or the device's `recovery_argv` (esptool, or `mvm sim serial-flash` for a
// simulator). When recovery fails too, the device is reported as needing attention.
import { isAbortError } from '../../../shared/errors.js';
import { sleep } from '../../../shared/sleep.js';
import { describeExit, execArgv } from '../../../shared/exec.js';
import { DriverError } from '../errors.js';
import type { FlashOptions, FlashResult, ProgressEvent } from '../types.js';
import type { AxeosClient } from './client.js';
import type { AxeosInfo } from './telemetry.js';
import { featuresFor } from './version.js';

export interface FlashContext {
  device: string;
  address: string;
  client: AxeosClient;
  options: Record<string, unknown>;
  nerdqaxe: boolean;
}

interface Timing {
  pollMs: number;
  rebootTimeoutMs: number;
  maxUptimeS: number;
  /** How long the device must stay up after verification (catches reboot loops). */
  settleMs: number;
  uploadTimeoutMs: number;
}

function timing(ctx: FlashContext, opts: FlashOptions): Timing {
  const o = ctx.options;
  const n = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
  const pollMs = opts.pollIntervalMs ?? n('poll_interval_ms') ?? 5000;
  return {
    pollMs,
    rebootTimeoutMs: opts.rebootTimeoutMs ?? n('reboot_timeout_ms') ?? 180_000,
    maxUptimeS: opts.maxUptimeS ?? n('max_uptime_s') ?? 300,
    settleMs: opts.settleMs ?? n('settle_ms') ?? Math.max(pollMs * 3, 15_000),
    uploadTimeoutMs: n('upload_timeout_ms') ?? 300_000,
  };
}

/** Polls info until `accept` holds or the deadline passes; returns the last answer (or undefined). */
async function pollInfo(
  ctx: FlashContext,
  t: Timing,
  signal: AbortSignal | undefined,
  accept: (info: AxeosInfo) => boolean,
  deadlineMs: number,
): Promise<{ info?: AxeosInfo; accepted: boolean; lastError?: unknown; answeredLast: boolean }> {
  const deadline = Date.now() + deadlineMs;
  let last: AxeosInfo | undefined;
  let lastError: unknown;
  let answeredLast = false;
  for (;;) {
    try {
      last = await ctx.client.info({ signal, timeoutMs: Math.min(10_000, Math.max(1000, t.pollMs * 2)) });
      answeredLast = true;
      if (accept(last)) return { info: last, accepted: true, answeredLast };
    } catch (err) {
      if (isAbortError(err) || signal?.aborted) throw err;
      lastError = err;
      answeredLast = false;
    }
    if (Date.now() + t.pollMs > deadline) return { info: last, accepted: false, lastError, answeredLast };
    await sleep(t.pollMs, signal);
  }
}

function verdict(info: AxeosInfo, expectedVersion: string, before: AxeosInfo, t: Timing): string | undefined {
  if (info.version !== expectedVersion) {
    return `running version ${JSON.stringify(info.version)}, expected ${JSON.stringify(expectedVersion)}`;
  }
  if (before.runningPartition !== undefined && info.runningPartition === before.runningPartition) {
    return `still running partition ${info.runningPartition}: the new slot did not boot`;
  }
  if (typeof info.uptimeSeconds === 'number' && info.uptimeSeconds > t.maxUptimeS) {
    return `uptime ${info.uptimeSeconds} s: the device did not reboot`;
  }
  return undefined;
}

export async function flashAxeos(ctx: FlashContext, image: Buffer, opts: FlashOptions): Promise<FlashResult> {
  const t = timing(ctx, opts);
  const started = Date.now();
  const progress = (e: ProgressEvent) => opts.onProgress?.(e);
  const signal = opts.signal;

  const before = await ctx.client.info({ signal });
  progress({ phase: 'validate', message: `device runs ${before.version ?? '?'} on ${before.runningPartition ?? '?'}` });

  let reply: string;
  try {
    reply = await ctx.client.ota(image, {
      signal,
      timeoutMs: t.uploadTimeoutMs,
      onSent: (sent) => progress({ phase: 'upload', sent, total: image.length }),
      otp:
        typeof ctx.options.otp === 'string' || typeof ctx.options.otp === 'number'
          ? String(ctx.options.otp)
          : undefined,
    });
  } catch (err) {
    if (isAbortError(err) || signal?.aborted) throw err;
    const cause =
      err instanceof DriverError ? (err.cause as { status?: number; message?: string } | undefined) : undefined;
    if (cause?.status === 401 && /OTP|Session/i.test(cause.message ?? '')) {
      // NerdQAxe++ with OTP on: not a network problem, a missing or stale one-time password.
      throw new DriverError(
        ctx.device,
        'refused',
        `the device asks for a one-time password before an update (401 OTP/Session required)${ctx.options.otp !== undefined ? '; the one given was not accepted' : ''}`,
        {
          cause: err,
          hint: 'read the current code from the NerdQAxe++ (its display or authenticator app) and pass it with --option otp=CODE (sent as the X-OTP-Code header), then flash again at once; nothing was written',
        },
      );
    }
    // The device answered the upload with an HTTP error: the firmware refused the image
    // ("Write Error", "Validation / Activation Error") and keeps running the old one.
    const status = err instanceof DriverError ? (err.cause as { status?: number } | undefined)?.status : undefined;
    if (err instanceof DriverError && (err.reason === 'refused' || status !== undefined)) {
      throw new DriverError(
        ctx.device,
        'refused',
        `the device rejected the image: ${(err.cause as Error | undefined)?.message ?? err.message}`,
        {
          cause: err,
          hint: 'the firmware refused the upload and kept its current image; check the image file',
        },
      );
    }
    // The upload broke off: the device may still run the old image, or may be dark.
    return await afterFailure(ctx, t, before, opts, `upload failed: ${(err as Error).message}`, started, err);
  }
  progress({ phase: 'reboot', message: reply || 'upload accepted; waiting for the reboot' });

  const back = await pollInfo(
    ctx,
    t,
    signal,
    (info) =>
      info.version !== before.version ||
      info.runningPartition !== before.runningPartition ||
      (typeof info.uptimeSeconds === 'number' &&
        typeof before.uptimeSeconds === 'number' &&
        info.uptimeSeconds < before.uptimeSeconds),
    t.rebootTimeoutMs,
  );
  if (!back.accepted) {
    const why =
      back.answeredLast && back.info
        ? `the device did not reboot into the new image within ${t.rebootTimeoutMs} ms (still ${back.info.version} on ${back.info.runningPartition})`
        : `the device did not answer within ${t.rebootTimeoutMs} ms after the upload`;
    return await afterFailure(ctx, t, before, opts, why, started, back.lastError);
  }
  progress({ phase: 'verify', message: `device answered: ${back.info!.version} on ${back.info!.runningPartition}` });
  const bad = verdict(back.info!, opts.expectedVersion, before, t);
  if (bad) return await afterFailure(ctx, t, before, opts, bad, started);

  // Stay up: a reboot loop answers for a moment, then goes dark again or restarts its uptime.
  const settled = await stayUp(ctx, t, signal, back.info!, opts.expectedVersion);
  if (typeof settled === 'string') return await afterFailure(ctx, t, before, opts, settled, started);
  progress({ phase: 'done', message: `running ${settled.version} on ${settled.runningPartition}` });
  return {
    ok: true,
    version: settled.version!,
    previousVersion: before.version ?? null,
    partition: settled.runningPartition ?? null,
    previousPartition: before.runningPartition ?? null,
    uptimeS: typeof settled.uptimeSeconds === 'number' ? settled.uptimeSeconds : null,
    durationMs: Date.now() - started,
  };
}

/** Polls for settleMs: every answer must come, on the new version, with an uptime that only grows. */
async function stayUp(
  ctx: FlashContext,
  t: Timing,
  signal: AbortSignal | undefined,
  first: AxeosInfo,
  expectedVersion: string,
): Promise<AxeosInfo | string> {
  const until = Date.now() + t.settleMs;
  let last = first;
  while (Date.now() < until) {
    await sleep(Math.min(t.pollMs, Math.max(0, until - Date.now())), signal);
    let info: AxeosInfo;
    try {
      info = await ctx.client.info({ signal, timeoutMs: Math.min(10_000, Math.max(1000, t.pollMs * 2)) });
    } catch (err) {
      if (isAbortError(err) || signal?.aborted) throw err;
      return `the device stopped answering ${Math.round((t.settleMs - (until - Date.now())) / 100) / 10} s after booting the new image (reboot loop?)`;
    }
    if (info.version !== expectedVersion) return `the device fell back to ${info.version} after booting the new image`;
    if (
      typeof info.uptimeSeconds === 'number' &&
      typeof last.uptimeSeconds === 'number' &&
      info.uptimeSeconds < last.uptimeSeconds
    ) {
      return 'the device rebooted again after booting the new image (reboot loop)';
    }
    last = info;
  }
  return last;
}

/** The flash failed: recover if possible; always throws (verify_failed when recovered, needs_attention when not). */
async function afterFailure(
  ctx: FlashContext,
  t: Timing,
  before: AxeosInfo,
  opts: FlashOptions,
  why: string,
  started: number,
  cause?: unknown,
): Promise<never> {
  const signal = opts.signal;
  const progress = (e: ProgressEvent) => opts.onProgress?.(e);
  const details = { previousVersion: before.version, previousPartition: before.runningPartition, durationMs: 0 };
  const attempts: string[] = [];

  // Is it still (or again) running the old firmware? Then nothing needs recovering.
  // A device in a reboot loop answers only now and then: give it a few polls to show up.
  const now = await pollInfo(ctx, t, signal, () => true, Math.min(t.rebootTimeoutMs, Math.max(t.pollMs * 3, 5000)));
  if (now.info && now.info.version === before.version && now.info.runningPartition === before.runningPartition) {
    throw new DriverError(
      ctx.device,
      'verify_failed',
      `flash failed: ${why}; the device still runs ${before.version}`,
      {
        cause,
        hint: 'the device is healthy on its previous firmware; check the image and try again',
        details: { ...details, recovered: true, durationMs: Date.now() - started },
      },
    );
  }

  // 1. Boot the previous slot back (v2.15+, device answering).
  const features = featuresFor(now.info?.version ?? before.version, {
    nerdqaxe: ctx.nerdqaxe,
    override: typeof ctx.options.api_version === 'string' ? ctx.options.api_version : undefined,
  });
  if (now.info && features.bootPartition && before.runningPartition) {
    progress({ phase: 'recover', message: `booting the previous partition ${before.runningPartition}` });
    try {
      const said = await ctx.client.postMessage('/api/system/boot', { partition: before.runningPartition }, { signal });
      // The boot call selects the slot for the next boot; unless it says it reboots, restart into it.
      if (!/reboot|restart/i.test(said)) {
        await ctx.client.postMessage('/api/system/restart', undefined, { signal, timeoutMs: 5000 }).catch((err) => {
          if (isAbortError(err)) throw err;
        });
      }
      const ok = await waitForVersion(ctx, t, signal, before);
      if (ok) recovered(ctx, why, before, 'boot partition', started, cause);
      attempts.push(
        `POST /api/system/boot ${before.runningPartition}: the device did not come back on ${before.version}`,
      );
    } catch (err) {
      if (err instanceof DriverError && err.reason === 'verify_failed') throw err;
      if (isAbortError(err) || signal?.aborted) throw err;
      attempts.push(`POST /api/system/boot: ${(err as Error).message}`);
    }
  }

  // 2. The configured recovery command (serial flash of a known-good image).
  const argv = recoveryArgv(ctx);
  if (argv) {
    progress({ phase: 'recover', message: `running ${argv.join(' ')}` });
    const r = await execArgv(argv, {
      signal,
      timeoutMs: typeof ctx.options.recovery_timeout_ms === 'number' ? ctx.options.recovery_timeout_ms : 600_000,
      maxCapture: 20_000,
    });
    if (r.code === 0) {
      const back = await pollInfo(ctx, t, signal, () => true, t.rebootTimeoutMs);
      if (back.info) recovered(ctx, why, back.info, 'recovery command', started, cause);
      attempts.push('recovery command succeeded but the device did not answer afterwards');
    } else {
      attempts.push(
        `recovery command ${describeExit(r)}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
  }
  if (attempts.length === 0) attempts.push('no recovery path: the device is dark and has no recovery_argv configured');

  throw new DriverError(
    ctx.device,
    'needs_attention',
    `flash failed: ${why}; recovery failed: ${attempts.join('; ')}`,
    {
      cause,
      details: { ...details, attempts, durationMs: Date.now() - started },
    },
  );
}

async function waitForVersion(
  ctx: FlashContext,
  t: Timing,
  signal: AbortSignal | undefined,
  before: AxeosInfo,
): Promise<boolean> {
  const r = await pollInfo(ctx, t, signal, (info) => info.version === before.version, t.rebootTimeoutMs);
  return r.accepted;
}

function recovered(
  ctx: FlashContext,
  why: string,
  info: AxeosInfo,
  how: string,
  started: number,
  cause: unknown,
): never {
  throw new DriverError(
    ctx.device,
    'verify_failed',
    `flash failed: ${why}; recovered by ${how}: the device runs ${info.version ?? '?'} on ${info.runningPartition ?? '?'}`,
    {
      cause,
      hint: 'the device is back on known-good firmware; the image did not boot, so check it before trying again',
      details: {
        recovered: true,
        how,
        version: info.version,
        partition: info.runningPartition,
        durationMs: Date.now() - started,
      },
    },
  );
}

/** The device's recovery_argv with {address} and {name} filled in; undefined when not configured. */
export function recoveryArgv(ctx: {
  device: string;
  address: string;
  options: Record<string, unknown>;
}): string[] | undefined {
  const raw = ctx.options.recovery_argv;
  if (!Array.isArray(raw) || raw.length === 0 || raw.some((a) => typeof a !== 'string')) return undefined;
  return (raw as string[]).map((a) => a.replaceAll('{address}', ctx.address).replaceAll('{name}', ctx.device));
}
