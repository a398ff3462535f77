// The `cgminer` driver: Avalon Nano 3 / 3S over the cgminer API (TCP 4028). Reads summary, estats
// and version; controls through ascset (workmode on the 3S, worklevel on the Nano 3, reboot,
// softoff/softon, fan-spd), setpool (web credentials) and switchpool.
import type { MvmError } from '../../../shared/errors.js';
import { DriverError, withDeadline } from '../errors.js';
import { normaliseMode } from '../modes.js';
import { splitPoolUrl } from '../pools.js';
import type {
  Capability,
  ControlAction,
  ControlResult,
  DeviceInfo,
  DeviceSpec,
  Driver,
  FlashResult,
  OpOptions,
  Telemetry,
} from '../types.js';
import {
  avalonModel,
  firmwareOf,
  statsIdModel,
  modelName,
  normaliseAvalon,
  versionRecord,
  type AvalonModel,
} from './avalon.js';
import { isErrorStatus, mmString, parseBracketPairs, statusOf, type CgReply } from './parse.js';
import { cgRequest, parseHostPort } from './transport.js';

const DEFAULT_TIMEOUT_MS = 20_000;
const MODE_LEVEL: Record<string, number> = { low: 0, med: 1, high: 2 };

export class CgminerDriver implements Driver {
  readonly kind = 'cgminer' as const;
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(['info', 'telemetry', 'control']);
  private model: AvalonModel | undefined;

  constructor(readonly device: DeviceSpec) {
    try {
      parseHostPort(device.address);
    } catch (err) {
      throw new DriverError(device.name, 'invalid_argument', (err as Error).message, {
        hint: 'a cgminer address is HOST:PORT, e.g. 127.0.0.1:4028',
      });
    }
  }

  private opt(key: string): unknown {
    return (this.device.options ?? {})[key];
  }

  /** One command; a STATUS of E/F becomes a `refused` DriverError. */
  async command(command: string, parameter: string | undefined, signal: AbortSignal): Promise<CgReply> {
    const reply = await cgRequest(this.device.name, this.device.address, command, parameter, {
      signal,
      timeoutMs:
        typeof this.opt('request_timeout_ms') === 'number' ? (this.opt('request_timeout_ms') as number) : 10_000,
      plain: this.opt('plain') === true,
    });
    const status = statusOf(reply);
    if (isErrorStatus(status) || (status?.Code === 120 && /fail/i.test(String(status.Msg)))) {
      throw new DriverError(
        this.device.name,
        'refused',
        `${command}${parameter ? `|${parameter}` : ''}: ${status?.Msg ?? 'error'} (code ${status?.Code ?? '?'})`,
      );
    }
    return reply;
  }

  private async detectModel(signal: AbortSignal, version?: CgReply, estats?: CgReply): Promise<AvalonModel> {
    if (this.model) return this.model;
    const hint = typeof this.opt('model') === 'string' ? (this.opt('model') as string) : undefined;
    if (hint) return (this.model = avalonModel([hint]));
    version ??= await this.command('version', undefined, signal).catch(() => undefined);
    const v = versionRecord(version);
    let ver: string | undefined;
    if (estats) ver = parseBracketPairs(mmString(estats) ?? '').Ver;
    const statsId = (estats?.STATS as Array<{ ID?: unknown }> | undefined)?.[0]?.ID;
    this.model = avalonModel([
      String(v?.PROD ?? ''),
      String(v?.MODEL ?? ''),
      ver,
      statsIdModel(statsId),
      this.device.hardware,
    ]);
    return this.model;
  }

  async info(opts: OpOptions = {}): Promise<DeviceInfo> {
    return withDeadline(this.device.name, 'info', opts, DEFAULT_TIMEOUT_MS, async (signal) => {
      const version = await this.command('version', undefined, signal);
      const model = await this.detectModel(signal, version);
      const v = versionRecord(version);
      return {
        name: this.device.name,
        driver: 'cgminer',
        address: this.device.address,
        model: modelName(model, typeof v?.PROD === 'string' ? v.PROD : undefined),
        hardware: model,
        firmwareVersion: firmwareOf(v),
        raw: version,
      };
    });
  }

  async telemetry(opts: OpOptions = {}): Promise<Telemetry> {
    return withDeadline(this.device.name, 'telemetry', opts, DEFAULT_TIMEOUT_MS, async (signal) => {
      const summary = await this.command('summary', undefined, signal);
      const estats = await this.command('estats', undefined, signal);
      const model = await this.detectModel(signal, undefined, estats);
      return normaliseAvalon(this.device, { summary, estats }, model);
    });
  }

  async control(action: ControlAction, opts: OpOptions = {}): Promise<ControlResult> {
    return withDeadline(this.device.name, action.op, opts, DEFAULT_TIMEOUT_MS, (signal) =>
      this.doControl(action, signal),
    );
  }

  private message(reply: CgReply): string {
    return String(statusOf(reply)?.Msg ?? 'ok');
  }

  private async doControl(action: ControlAction, signal: AbortSignal): Promise<ControlResult> {
    const name = this.device.name;
    switch (action.op) {
      case 'restart': {
        // The 3S takes a delay (0–300 s); the Nano 3's tools send "all".
        const arg = (await this.detectModel(signal)) === 'nano3' ? 'all' : '0';
        const r = await this.command('ascset', `0,reboot,${arg}`, signal);
        return { ok: true, action: 'restart', message: this.message(r) };
      }
      case 'pause':
        return this.softOff(signal);
      case 'resume':
        return this.softOn(signal);
      case 'mode': {
        let mode: string;
        try {
          mode = normaliseMode('cgminer', action.mode);
        } catch (err) {
          throw new DriverError(
            name,
            'unsupported',
            `${(err as MvmError).message}: the Avalon Nano has low, med and high only`,
            { hint: (err as MvmError).hint },
          );
        }
        const level = MODE_LEVEL[mode];
        const model = await this.detectModel(signal);
        const key = model === 'nano3' ? 'worklevel' : 'workmode';
        const r = await this.command('ascset', `0,${key},set,${level}`, signal);
        return {
          ok: true,
          action: 'mode',
          message: `${key} ${level} (${mode}): ${this.message(r)}`,
          details: { key, level, mode },
        };
      }
      case 'fan': {
        if (!Number.isInteger(action.percent) || action.percent < 0 || action.percent > 100) {
          throw new DriverError(name, 'invalid_argument', `fan ${action.percent} % is out of range (0–100)`);
        }
        const r = await this.command('ascset', `0,fan-spd,${action.percent}`, signal);
        return { ok: true, action: 'fan', message: this.message(r) };
      }
      case 'frequency':
      case 'voltage':
        throw new DriverError(
          name,
          'unsupported',
          `${action.op}: the Avalon Nano sets frequency and voltage through its work mode`,
          {
            hint: 'use `mvm runner control mode low|med|high` (or eco|standard|turbo)',
          },
        );
      case 'pools-set': {
        if (action.pools.length === 0 || action.pools.length > 3) {
          throw new DriverError(
            name,
            'invalid_argument',
            `pools set: the Avalon Nano keeps 1 to 3 pools (got ${action.pools.length})`,
          );
        }
        const { user, pass } = await this.webLogin(signal);
        const messages: string[] = [];
        for (const [i, pool] of action.pools.entries()) {
          let url: string;
          try {
            const { scheme, host, port } = splitPoolUrl(pool);
            url = `${scheme}://${host}:${port}`;
          } catch (err) {
            throw new DriverError(name, 'invalid_argument', (err as Error).message);
          }
          for (const [field, value] of [
            ['user', pool.user],
            ['password', pool.password ?? 'x'],
          ] as const) {
            if (/[,|]/.test(value))
              throw new DriverError(name, 'invalid_argument', `pool ${i} ${field} must not contain "," or "|"`);
          }
          const r = await this.command(
            'setpool',
            `${user},${pass},${i},${url},${pool.user},${pool.password ?? 'x'}`,
            signal,
          ).catch((err: unknown) => {
            if (err instanceof DriverError && /code 132/.test(err.message) && /user|pass/i.test(err.message)) {
              throw new DriverError(
                name,
                'refused',
                `pools set: the device refused its web login (${user}): ${err.message}`,
                {
                  hint: 'set the device options web_user and web_password (Nano 3: web_password_hash, the hashed password its web page sends)',
                },
              );
            }
            throw err;
          });
          messages.push(this.message(r));
        }
        return {
          ok: true,
          action: 'pools-set',
          message: `${action.pools.length} pool(s) set (${messages.join('; ')}); reboot to use them`,
          needsRestart: true,
        };
      }
      case 'pools-switch': {
        if (!Number.isInteger(action.index) || action.index < 0 || action.index > 2) {
          throw new DriverError(name, 'invalid_argument', `pools switch: index ${action.index} must be 0, 1 or 2`);
        }
        const r = await this.command('switchpool', String(action.index), signal);
        return { ok: true, action: 'pools-switch', message: this.message(r) };
      }
      case 'pools-priority': {
        if (action.order.length === 0 || action.order.some((i) => !Number.isInteger(i) || i < 0 || i > 2)) {
          throw new DriverError(
            name,
            'invalid_argument',
            `pools priority: indexes must be 0, 1 or 2 (got ${action.order.join(' ')})`,
          );
        }
        const r = await this.command('poolpriority', action.order.join(','), signal);
        return { ok: true, action: 'pools-priority', message: this.message(r) };
      }
    }
  }

  /** setpool's web login: the device options, else the model's default (3S admin/admin); the Nano 3 needs its hashed password. */
  private async webLogin(signal: AbortSignal): Promise<{ user: string; pass: string }> {
    const str = (k: string) => (typeof this.opt(k) === 'string' ? (this.opt(k) as string) : undefined);
    const model = await this.detectModel(signal);
    if (model === 'nano3') {
      const pass = str('web_password_hash');
      if (!pass) {
        throw new DriverError(
          this.device.name,
          'unsupported',
          'pools set: the Nano 3 checks a hashed web password, and none is configured',
          {
            hint: 'set the device option web_password_hash (the hashed password its web page sends) and, if not root, web_user',
          },
        );
      }
      return { user: str('web_user') ?? 'root', pass };
    }
    return { user: str('web_user') ?? 'admin', pass: str('web_password') ?? 'admin' };
  }

  private async softOff(signal: AbortSignal): Promise<ControlResult> {
    // softoff/softon take "1:<when>", a moment in the (device's) near future.
    const when = Math.floor(Date.now() / 1000) + 5;
    try {
      const r = await this.command('ascset', `0,softoff,1:${when}`, signal);
      return { ok: true, action: 'pause', message: this.message(r) };
    } catch (err) {
      if (err instanceof DriverError && err.reason === 'refused' && /unknown option/i.test(err.message)) {
        throw new DriverError(
          this.device.name,
          'unsupported',
          `pause: this Avalon build has no softoff in its command table (${err.message})`,
          {
            hint: 'update the firmware to a build with softoff, or stop it another way (restart, fan/pool changes)',
            cause: err,
          },
        );
      }
      throw err;
    }
  }

  /** Some builds close the connection after softon without a reply although it worked: read the state back. */
  private async softOn(signal: AbortSignal): Promise<ControlResult> {
    const when = Math.floor(Date.now() / 1000) + 5;
    try {
      const r = await this.command('ascset', `0,softon,1:${when}`, signal);
      return { ok: true, action: 'resume', message: this.message(r) };
    } catch (err) {
      if (!(err instanceof DriverError) || !['unreachable', 'bad_reply', 'timeout'].includes(err.reason)) throw err;
      const estats = await this.command('estats', undefined, signal);
      const softOff = parseBracketPairs(mmString(estats) ?? '').SoftOFF;
      if (softOff === '0')
        return {
          ok: true,
          action: 'resume',
          message: 'softon: no reply, but the device reads back as running (SoftOFF[0])',
        };
      throw new DriverError(
        this.device.name,
        'refused',
        `resume: softon got no reply and the device still reads SoftOFF[${softOff ?? '?'}]`,
        { cause: err },
      );
    }
  }

  async flash(): Promise<FlashResult> {
    throw new DriverError(
      this.device.name,
      'unsupported',
      'the Avalon Nano has no firmware upload over the cgminer API',
      {
        hint: 'update an Avalon through its web interface or vendor tool',
      },
    );
  }

  async close(): Promise<void> {}
}
