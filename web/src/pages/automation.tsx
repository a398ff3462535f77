// Automation rules: the list (enable, disable, delete, dry-run), a builder from the trigger and
// action types the API lists, a dry-run of the rule being built, and the firing history.
import { useState } from 'preact/hooks';
import { api, enc, hasApi, ifApi, listOf } from '../api.js';
import { useLive } from '../live.js';
import { Action, IfCanAct } from '../ui/action.js';
import { EventList } from '../ui/events.js';
import { Badge, Section, Show } from '../ui/parts.js';
import { ListTable } from '../ui/table.js';
import { useApi } from '../ui/use-api.js';
import type { FleetEvent } from '../types.js';

interface TypeInfo {
  type: string;
  description?: string;
  params?:
    | Array<{ name: string; type?: string; description?: string; required?: boolean; min?: number }>
    | Record<string, unknown>;
  example?: Record<string, unknown>;
}

interface Rule {
  id: string | number;
  name: string;
  enabled: boolean;
  priority?: number;
  trigger: { type: string } & Record<string, unknown>;
  conditions?: Record<string, unknown>;
  action: { type: string } & Record<string, unknown>;
  until?: boolean;
  undoAction?: unknown;
  cooldownMs?: number;
  hysteresis?: number;
}

/** The rule as the API takes it back (PUT): its input fields only. */
function input(r: Rule, patch: Partial<Rule>): Record<string, unknown> {
  const {
    id: _id,
    createdAt: _c,
    updatedAt: _u,
    states: _s,
    ...rest
  } = r as Rule & { createdAt?: string; updatedAt?: string; states?: unknown };
  return { ...rest, ...patch };
}

/** "15m", "2h", "30s", "1d" or plain milliseconds → ms. */
export function durationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

function types(d: unknown): TypeInfo[] {
  return listOf<TypeInfo | string>(d, 'types', 'triggers', 'actions', 'conditions').map((t) =>
    typeof t === 'string' ? { type: t } : { ...t, type: t.type ?? (t as { name?: string }).name ?? '?' },
  );
}

/** A starting point for a type's parameters: its example, else its parameter names. */
function template(t: TypeInfo | undefined): string {
  if (!t) return '{}';
  if (t.example) return JSON.stringify(t.example, null, 2);
  const params = Array.isArray(t.params)
    ? t.params
    : Object.keys(t.params ?? {}).map((name) => ({ name, type: 'string' }));
  const blank = (p: { type?: string; min?: number }) =>
    p.type === 'number' || p.type === 'integer' || p.type === 'duration' ? (p.min ?? 0) : '';
  return JSON.stringify(
    Object.fromEntries(params.map((p) => [p.name, blank(p as { type?: string; min?: number })])),
    null,
    2,
  );
}

function parse(text: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text || '{}');
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new Error(`${what}: not a JSON object`);
}

export function summary(x: { type: string } & Record<string, unknown>): string {
  const rest = Object.entries(x).filter(([k]) => k !== 'type');
  return rest.length
    ? `${x.type} (${rest.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ')})`
    : x.type;
}

export function Automation() {
  const rules = useApi<unknown>(ifApi('/api/automation/'));
  const triggers = useApi<unknown>(ifApi('/api/automation/triggers/types'));
  const actions = useApi<unknown>(ifApi('/api/automation/actions/types'));
  const history = useApi<unknown>('/api/dashboard/events/recent?limit=30&kind=rule');
  useLive(history.reload, (m) => (m.data as { kind?: string })?.kind === 'rule' || m.type === 'rule');
  const [dry, setDry] = useState<unknown>(null);
  if (!hasApi('/api/automation/'))
    return (
      <>
        <h1>Automation</h1>
        <p class="muted" data-testid="not-available">
          This fleet daemon has no automation rules in its API.
        </p>
      </>
    );
  return (
    <>
      <h1>Automation</h1>
      <Section title="Rules">
        <ListTable<Rule>
          l={rules}
          what="rules"
          listKeys={['rules']}
          empty="No rules yet."
          testId="rules"
          columns={['Rule', 'When', 'Do', '']}
          row={(r) => (
            <tr key={r.id}>
              <th scope="row">
                {r.name} <Badge kind={r.enabled ? 'online' : 'offline'}>{r.enabled ? 'on' : 'off'}</Badge>
              </th>
              <td>{summary(r.trigger)}</td>
              <td>{summary(r.action)}</td>
              <td class="row-actions">
                <Action
                  label="Dry-run"
                  run={() => api(`/api/automation/${enc(String(r.id))}/dry-run`, { method: 'POST' })}
                  done={setDry}
                />
                <Action
                  label={r.enabled ? 'Disable' : 'Enable'}
                  run={() =>
                    api(`/api/automation/${enc(String(r.id))}`, {
                      method: 'PUT',
                      body: input(r, { enabled: !r.enabled }),
                    })
                  }
                  done={rules.reload}
                />
                <Action
                  label="Delete"
                  kind="danger"
                  confirm={`Delete rule ${r.name}?`}
                  run={() => api(`/api/automation/${enc(String(r.id))}`, { method: 'DELETE' })}
                  done={rules.reload}
                />
              </td>
            </tr>
          )}
        />
      </Section>
      {dry !== null && (
        <Section
          title="Dry-run"
          actions={
            <button class="btn" onClick={() => setDry(null)}>
              Close
            </button>
          }
        >
          <pre class="pre" data-testid="dry-run">
            {JSON.stringify(dry, null, 2)}
          </pre>
        </Section>
      )}
      <IfCanAct>
        <Builder triggers={types(triggers.data)} actions={types(actions.data)} onSaved={rules.reload} onDry={setDry} />
      </IfCanAct>
      <Section title="Firing history">
        <Show l={history} what="rule events">
          {(d) => <EventList events={listOf<FleetEvent>(d, 'events').filter((e) => e.kind === 'rule')} />}
        </Show>
      </Section>
    </>
  );
}

function Builder(props: { triggers: TypeInfo[]; actions: TypeInfo[]; onSaved(): void; onDry(x: unknown): void }) {
  const [name, setName] = useState('');
  const [trigger, setTrigger] = useState('');
  const [triggerParams, setTriggerParams] = useState('{}');
  const [action, setAction] = useState('');
  const [actionParams, setActionParams] = useState('{}');
  const [selection, setSelection] = useState('');
  const [window_, setWindow] = useState('');
  const [cooldown, setCooldown] = useState('15m');
  const [until, setUntil] = useState(false);
  const rule = () => {
    // "bitaxe-1, tag:garage, model:Bitaxe Gamma": miners by name, tag or model
    const picks = selection
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const by = (prefix: string) => picks.filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length).trim());
    const miners = picks.filter((s) => !s.startsWith('tag:') && !s.startsWith('model:'));
    const [from, to] = window_.split(/\s*[-–]\s*/);
    const cooldownMs = durationMs(cooldown);
    if (cooldown && cooldownMs === undefined) throw new Error(`cooldown "${cooldown}": write it as 30s, 15m, 2h or 1d`);
    if (window_ && !(from && to)) throw new Error(`time window "${window_}": write it as HH:MM-HH:MM`);
    return {
      name,
      enabled: true,
      trigger: { type: trigger, ...parse(triggerParams, 'trigger parameters') },
      conditions: {
        ...(miners.length ? { miners } : {}),
        ...(by('tag:').length ? { tags: by('tag:') } : {}),
        ...(by('model:').length ? { models: by('model:') } : {}),
        ...(window_ ? { window: { from, to } } : {}),
      },
      action: { type: action, ...parse(actionParams, 'action parameters') },
      until,
      ...(cooldownMs !== undefined ? { cooldownMs } : {}),
    };
  };
  const describe = (list: TypeInfo[], t: string) => list.find((x) => x.type === t)?.description;
  return (
    <Section title="New rule">
      <form class="form" onSubmit={(e) => e.preventDefault()} data-testid="rule-builder">
        <label>
          Name <input aria-label="Name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Trigger
          <select
            aria-label="Trigger"
            value={trigger}
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              setTrigger(v);
              setTriggerParams(template(props.triggers.find((t) => t.type === v)));
            }}
          >
            <option value="">choose…</option>
            {props.triggers.map((t) => (
              <option value={t.type}>{t.type}</option>
            ))}
          </select>
        </label>
        {describe(props.triggers, trigger) && <p class="muted small">{describe(props.triggers, trigger)}</p>}
        <label class="wide">
          Trigger parameters (JSON){' '}
          <textarea
            aria-label="Trigger parameters (JSON)"
            rows={3}
            value={triggerParams}
            onInput={(e) => setTriggerParams((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <label>
          Miners, tag:NAME or model:NAME (comma-separated; empty = all){' '}
          <input
            aria-label="Miners, tags or models"
            value={selection}
            onInput={(e) => setSelection((e.target as HTMLInputElement).value)}
            placeholder="bitaxe-1, tag:garage"
          />
        </label>
        <label>
          Time window{' '}
          <input
            aria-label="Time window"
            value={window_}
            onInput={(e) => setWindow((e.target as HTMLInputElement).value)}
            placeholder="16:00-19:00"
          />
        </label>
        <label>
          Action
          <select
            aria-label="Action"
            value={action}
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              setAction(v);
              setActionParams(template(props.actions.find((t) => t.type === v)));
            }}
          >
            <option value="">choose…</option>
            {props.actions.map((t) => (
              <option value={t.type}>{t.type}</option>
            ))}
          </select>
        </label>
        {describe(props.actions, action) && <p class="muted small">{describe(props.actions, action)}</p>}
        <label class="wide">
          Action parameters (JSON){' '}
          <textarea
            aria-label="Action parameters (JSON)"
            rows={3}
            value={actionParams}
            onInput={(e) => setActionParams((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <label class="check">
          <input type="checkbox" checked={until} onChange={(e) => setUntil((e.target as HTMLInputElement).checked)} />{' '}
          undo the action when the trigger ends
        </label>
        <label>
          Cooldown{' '}
          <input
            aria-label="Cooldown"
            value={cooldown}
            onInput={(e) => setCooldown((e.target as HTMLInputElement).value)}
          />
        </label>
        <div class="wide">
          <Action
            label="Dry-run"
            run={async () => api('/api/automation/dry-run', { method: 'POST', body: rule() })}
            done={props.onDry}
          />
          <Action
            label="Save rule"
            kind="primary"
            run={async () => api('/api/automation/', { method: 'POST', body: rule() })}
            done={() => (setName(''), props.onSaved())}
          />
        </div>
      </form>
    </Section>
  );
}
