// The pool catalogue (add, edit, delete), which miners and tags use which pools, and drift (a
// device whose pools differ from what the fleet wants).
import { useState } from 'preact/hooks';
import { api, enc, listOf } from '../api.js';
import { useLive } from '../live.js';
import { Action, IfCanAct } from '../ui/action.js';
import { EventList } from '../ui/events.js';
import { Section, Show } from '../ui/parts.js';
import { ListTable } from '../ui/table.js';
import { useApi } from '../ui/use-api.js';
import type { FleetEvent, Pool, PoolAssignment } from '../types.js';

const EMPTY = { name: '', url: 'stratum+tcp://', port: '3333', user: '', password: '', tls: false };

export function Pools() {
  const pools = useApi<unknown>('/api/pools/');
  const assignments = useApi<unknown>('/api/pools/assignments');
  const drift = useApi<unknown>('/api/dashboard/events/recent?limit=20&kind=drift');
  useLive(drift.reload, (m) => (m.data as { kind?: string })?.kind === 'drift' || m.type === 'drift');
  const [form, setForm] = useState(EMPTY);
  const [editing, setEditing] = useState<string | null>(null);
  const field = (k: keyof typeof EMPTY) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setForm({ ...form, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };
  const body = () => ({
    name: form.name,
    url: form.url,
    port: Number(form.port),
    user: form.user,
    tls: form.tls,
    ...(form.password ? { password: form.password } : {}),
  });
  const byId = new Map(listOf<Pool>(pools.data, 'pools').map((p) => [p.id, p.name]));
  return (
    <>
      <h1>Pools</h1>
      <Section title="Catalogue">
        <ListTable<Pool>
          l={pools}
          what="pools"
          listKeys={['pools']}
          empty="No pools yet."
          testId="pools"
          columns={['Name', 'URL', 'User', 'TLS', '']}
          row={(p) => (
            <tr key={p.id}>
              <th scope="row">{p.name}</th>
              <td>
                <code>
                  {p.url}:{p.port}
                </code>
              </td>
              <td>{p.user}</td>
              <td>{p.tls ? 'yes' : 'no'}</td>
              <td>
                <IfCanAct>
                  <button
                    type="button"
                    class="btn"
                    data-action
                    onClick={() => (
                      setEditing(p.id),
                      setForm({
                        name: p.name,
                        url: p.url,
                        port: String(p.port),
                        user: p.user,
                        password: '',
                        tls: p.tls,
                      })
                    )}
                  >
                    Edit
                  </button>
                  <Action
                    label="Delete"
                    kind="danger"
                    confirm={`Delete pool ${p.name}?`}
                    run={() => api(`/api/pools/${enc(p.id)}`, { method: 'DELETE' })}
                    done={pools.reload}
                  />
                </IfCanAct>
              </td>
            </tr>
          )}
        />
        <IfCanAct>
          <form class="form" onSubmit={(e) => e.preventDefault()} data-testid="pool-form">
            <h3>{editing ? `Edit ${byId.get(editing) ?? editing}` : 'Add a pool'}</h3>
            <label>
              Name <input value={form.name} onInput={field('name')} required />
            </label>
            <label>
              URL <input value={form.url} onInput={field('url')} required />
            </label>
            <label>
              Port <input value={form.port} onInput={field('port')} inputMode="numeric" />
            </label>
            <label>
              User <input value={form.user} onInput={field('user')} />
            </label>
            <label>
              Password{' '}
              <input
                type="password"
                value={form.password}
                onInput={field('password')}
                placeholder={editing ? 'unchanged' : ''}
              />
            </label>
            <label class="check">
              <input type="checkbox" checked={form.tls} onChange={field('tls')} /> TLS
            </label>
            <Action
              label={editing ? 'Save' : 'Add pool'}
              kind="primary"
              testId="save-pool"
              run={() =>
                editing
                  ? api(`/api/pools/${enc(editing)}`, { method: 'PUT', body: body() })
                  : api('/api/pools/', { method: 'POST', body: body() })
              }
              done={() => (setForm(EMPTY), setEditing(null), pools.reload())}
            />
            {editing && (
              <button type="button" class="btn" onClick={() => (setEditing(null), setForm(EMPTY))}>
                Cancel
              </button>
            )}
          </form>
        </IfCanAct>
      </Section>
      <Section title="Assignments">
        <Show l={assignments} what="assignments">
          {(d) => {
            const list = listOf<PoolAssignment>(d, 'assignments');
            if (list.length === 0)
              return <p class="muted">No miner or tag has pools assigned (a miner's page assigns them).</p>;
            return (
              <ul data-testid="assignments">
                {list.map((a) => (
                  <li>
                    {'miner' in a.scope ? (
                      <>
                        miner <a href={`/miners/${enc(a.scope.miner)}`}>{a.scope.miner}</a>
                      </>
                    ) : (
                      <>tag {a.scope.tag}</>
                    )}
                    : {(a.pools ?? a.poolIds ?? []).map((id) => byId.get(id) ?? id).join(' → ')}
                  </li>
                ))}
              </ul>
            );
          }}
        </Show>
      </Section>
      <Section title="Drift">
        <Show l={drift} what="drift events">
          {(d) => {
            const list = listOf<FleetEvent>(d, 'events').filter((e) => e.kind === 'drift');
            return list.length ? (
              <EventList events={list} />
            ) : (
              <p class="muted">No drift: every miner has the pools the fleet wants.</p>
            );
          }}
        </Show>
      </Section>
    </>
  );
}
