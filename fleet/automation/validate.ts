// Checks a rule before it is saved: its shape (every problem at once, with the field's path) and
// whether it can be satisfied — named miners exist, a mode is one the selected miners have, an
// action on a testbed's device is bounded by `until` (its reservation lasts the rule's window).
import { didYouMean, isTable } from '../../factory/config/problems.js';
import { MvmError } from '../../shared/errors.js';
import type { MinerDefinition } from '../types.js';
import { ACTION_TYPES, TRIGGER_TYPES, type ParamSpec, type TypeSpec } from './catalog.js';
import { parseCron } from './cron.js';
import type { Action, Conditions, RuleActuator, RuleInput, Trigger } from './types.js';

export interface RuleProblem {
  path: string;
  message: string;
  hint?: string;
}

export class RuleInvalidError extends MvmError {
  constructor(readonly problems: RuleProblem[]) {
    super(
      'USAGE',
      `the rule is refused: ${problems.map((p) => `${p.path}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`).join('; ')}`,
      {
        hint: 'GET /api/automation/triggers/types and /actions/types list what exists',
      },
    );
  }
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
type MinerLike = Pick<MinerDefinition, 'id' | 'model' | 'tags' | 'testbed'>;

export function selectMiners<M extends MinerLike>(c: Conditions, miners: readonly M[]): M[] {
  return miners.filter(
    (m) =>
      (!c.miners || c.miners.includes(m.id)) &&
      (!c.models || (m.model !== undefined && c.models.some((x) => x.toLowerCase() === m.model!.toLowerCase()))) &&
      (!c.tags || c.tags.some((t) => m.tags.includes(t))),
  );
}

function checkParams(obj: Record<string, unknown>, spec: TypeSpec<string>, path: string, out: RuleProblem[]): void {
  const allowed = ['type', ...spec.params.map((p) => p.name)];
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k))
      out.push({
        path: `${path}.${k}`,
        message: `unknown parameter for ${spec.type}`,
        hint: `${spec.type} takes: ${spec.params.map((p) => p.name).join(', ') || 'nothing'}`,
      });
  }
  for (const p of spec.params) checkParam(obj[p.name], p, `${path}.${p.name}`, out);
}

function checkParam(v: unknown, p: ParamSpec, path: string, out: RuleProblem[]): void {
  if (v === undefined) {
    if (p.required) out.push({ path, message: 'missing', hint: p.description });
    return;
  }
  if (p.type === 'string') {
    if (typeof v !== 'string' || v.trim() === '')
      out.push({ path, message: 'must be a non-empty string', hint: p.description });
    return;
  }
  if (p.type === 'object') {
    if (!isTable(v) || Object.values(v).some((x) => typeof x !== 'string'))
      out.push({ path, message: 'must be an object of strings', hint: p.description });
    return;
  }
  const int = p.type === 'integer' || p.type === 'duration';
  if (
    typeof v !== 'number' ||
    !Number.isFinite(v) ||
    (int && !Number.isInteger(v)) ||
    (p.min !== undefined && v < p.min) ||
    (p.max !== undefined && v > p.max)
  ) {
    out.push({
      path,
      message: `must be ${int ? 'an integer' : 'a number'}${p.min !== undefined ? ` from ${p.min} to ${p.max}` : ''}, not ${JSON.stringify(v)}`,
      hint: p.description,
    });
  }
}

function checkTyped<T extends string>(v: unknown, specs: TypeSpec<T>[], path: string, out: RuleProblem[]): boolean {
  if (!isTable(v)) {
    out.push({ path, message: 'must be an object with a "type"' });
    return false;
  }
  const spec = specs.find((s) => s.type === v.type);
  if (!spec) {
    const guess =
      typeof v.type === 'string'
        ? didYouMean(
            v.type,
            specs.map((s) => s.type),
          )
        : undefined;
    out.push({
      path: `${path}.type`,
      message: `unknown type ${JSON.stringify(v.type)}`,
      hint: guess ? `did you mean ${guess}?` : `one of: ${specs.map((s) => s.type).join(', ')}`,
    });
    return false;
  }
  const before = out.length;
  checkParams(v, spec, path, out);
  return out.length === before;
}

function stringList(v: unknown, path: string, out: RuleProblem[]): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '')) {
    out.push({ path, message: 'must be a non-empty array of names' });
    return undefined;
  }
  return v as string[];
}

export interface ValidateContext {
  miners: readonly MinerLike[];
  actuator?: Pick<RuleActuator, 'modes'>;
}

/** Returns the rule when it can be saved; throws RuleInvalidError with every problem otherwise. */
export function validateRule(body: unknown, ctx: ValidateContext): RuleInput {
  const out: RuleProblem[] = [];
  if (!isTable(body)) throw new RuleInvalidError([{ path: '(body)', message: 'must be a JSON object' }]);
  const allowed = [
    'name',
    'enabled',
    'priority',
    'trigger',
    'conditions',
    'action',
    'until',
    'undoAction',
    'cooldownMs',
    'hysteresis',
  ];
  for (const k of Object.keys(body))
    if (!allowed.includes(k))
      out.push({
        path: k,
        message: 'unknown field',
        hint: didYouMean(k, allowed) ? `did you mean ${didYouMean(k, allowed)}?` : `fields: ${allowed.join(', ')}`,
      });
  if (typeof body.name !== 'string' || !/^[\w.:-][\w .:-]{0,99}$/.test(body.name))
    out.push({ path: 'name', message: 'must be 1–100 letters, digits, spaces, . _ : -' });
  for (const k of ['enabled', 'until'] as const)
    if (body[k] !== undefined && typeof body[k] !== 'boolean') out.push({ path: k, message: 'must be true or false' });
  const num = (k: string, min: number, max: number, integer: boolean) => {
    const v = body[k];
    if (
      v !== undefined &&
      (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    )
      out.push({ path: k, message: `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}` });
  };
  num('priority', -1000, 1000, true);
  num('cooldownMs', 0, 7 * 86_400_000, true);
  num('hysteresis', 0, 1000, false);

  if (checkTyped(body.trigger, TRIGGER_TYPES, 'trigger', out) && (body.trigger as Trigger).type === 'schedule') {
    try {
      parseCron((body.trigger as { cron: string }).cron);
    } catch (err) {
      out.push({ path: 'trigger.cron', message: (err as MvmError).message, hint: (err as MvmError).hint });
    }
  }
  const actionOk = checkTyped(body.action, ACTION_TYPES, 'action', out);
  if (body.undoAction !== undefined && body.undoAction !== null)
    checkTyped(body.undoAction, ACTION_TYPES, 'undoAction', out);
  for (const [path, a] of [
    ['action', body.action],
    ['undoAction', body.undoAction],
  ] as const) {
    if (isTable(a) && a.type === 'notify' && typeof a.url === 'string' && !/^https?:\/\/[^/\s]+/.test(a.url))
      out.push({ path: `${path}.url`, message: `"${a.url}" is not an http(s) URL` });
  }

  const conditions: Conditions = {};
  if (body.conditions !== undefined) {
    if (!isTable(body.conditions))
      out.push({ path: 'conditions', message: 'must be an object (miners, models, tags, window)' });
    else {
      const c = body.conditions;
      for (const k of Object.keys(c))
        if (!['miners', 'models', 'tags', 'window'].includes(k))
          out.push({
            path: `conditions.${k}`,
            message: 'unknown condition',
            hint: 'conditions: miners, models, tags, window',
          });
      const miners = stringList(c.miners, 'conditions.miners', out);
      const models = stringList(c.models, 'conditions.models', out);
      const tags = stringList(c.tags, 'conditions.tags', out);
      if (miners) {
        conditions.miners = miners;
        const known = ctx.miners.map((m) => m.id);
        for (const id of miners) {
          if (!known.includes(id))
            out.push({
              path: 'conditions.miners',
              message: `unknown miner "${id}"`,
              hint: didYouMean(id, known) ? `did you mean ${didYouMean(id, known)}?` : 'GET /api/miners/ lists them',
            });
        }
      }
      if (models) conditions.models = models;
      if (tags) conditions.tags = tags;
      if (c.window !== undefined) {
        const w = c.window;
        if (
          !isTable(w) ||
          typeof w.from !== 'string' ||
          typeof w.to !== 'string' ||
          !HHMM.test(w.from) ||
          !HHMM.test(w.to)
        ) {
          out.push({
            path: 'conditions.window',
            message: 'must be {"from": "HH:MM", "to": "HH:MM"} (UK time; may wrap past midnight)',
          });
        } else conditions.window = { from: w.from, to: w.to };
      }
    }
  }

  if (actionOk && out.length === 0) {
    const action = body.action as Action;
    const selected = selectMiners(conditions, ctx.miners);
    if (action.type === 'set_mode') {
      for (const m of selected) {
        const modes = ctx.actuator?.modes(m.id);
        if (modes && !modes.includes(action.mode))
          out.push({
            path: 'action.mode',
            message: `miner "${m.id}" has no mode "${action.mode}"`,
            hint: `it has: ${modes.join(', ') || 'no modes'}`,
          });
      }
    }
    if (body.until === true && action.type === 'restart' && !body.undoAction)
      out.push({ path: 'until', message: 'a restart cannot be undone', hint: 'remove until, or give an undoAction' });
    if (body.until === true && action.type === 'set_fan' && !body.undoAction)
      out.push({
        path: 'until',
        message: 'the fan duty before the rule is not known',
        hint: 'give an undoAction, e.g. {"type": "set_fan", "percent": 60}',
      });
    if (action.type !== 'notify' && body.until !== true) {
      for (const m of selected.filter((x) => x.testbed)) {
        out.push({
          path: 'until',
          message: `miner "${m.id}" is a device of testbed ${m.testbed}: a rule changes it only for its window`,
          hint: 'set until = true (the reservation is released, and the baseline restored, when the trigger ends), or exclude the miner',
        });
      }
    }
  }
  if (out.length > 0) throw new RuleInvalidError(out);
  return {
    name: body.name as string,
    enabled: (body.enabled as boolean | undefined) ?? true,
    priority: (body.priority as number | undefined) ?? 0,
    trigger: body.trigger as Trigger,
    conditions,
    action: body.action as Action,
    until: (body.until as boolean | undefined) ?? false,
    undoAction: (body.undoAction as Action | null | undefined) ?? null,
    cooldownMs: (body.cooldownMs as number | undefined) ?? 0,
    hysteresis: (body.hysteresis as number | undefined) ?? 0,
  };
}
