// A miner's ordered pool list (first = highest priority), chosen from the catalogue and applied
// through PUT /api/miners/{id}/pools.
import { useEffect, useState } from 'preact/hooks';
import { api, enc, listOf } from '../api.js';
import { Action } from '../ui/action.js';
import { useApi } from '../ui/use-api.js';
import type { Pool } from '../types.js';

export function PoolPicker(props: { minerId: string }) {
  const pools = useApi<unknown>('/api/pools/');
  const current = useApi<unknown>(`/api/miners/${enc(props.minerId)}/pools`);
  const [chosen, setChosen] = useState<string[]>([]);
  useEffect(() => {
    const d = current.data as { desired?: string[] | null } | undefined;
    const ids =
      d?.desired ??
      listOf<string | Pool>(current.data, 'pools', 'poolIds').map((p) => (typeof p === 'string' ? p : p.id));
    setChosen(ids);
  }, [current.data]);
  const all = listOf<Pool>(pools.data, 'pools');
  if (all.length === 0) return <p class="muted small">No pools in the catalogue yet (Pools page).</p>;
  const move = (i: number, d: number) => {
    const next = [...chosen];
    const [x] = next.splice(i, 1);
    next.splice(i + d, 0, x);
    setChosen(next);
  };
  return (
    <fieldset class="pools-pick" data-testid="pool-picker">
      <legend>Pools, in priority order</legend>
      <ol>
        {chosen.map((id, i) => (
          <li key={id}>
            {all.find((p) => p.id === id)?.name ?? id}
            <button
              type="button"
              class="btn small"
              aria-label={`Move ${id} up`}
              disabled={i === 0}
              onClick={() => move(i, -1)}
            >
              ↑
            </button>
            <button
              type="button"
              class="btn small"
              aria-label={`Move ${id} down`}
              disabled={i === chosen.length - 1}
              onClick={() => move(i, 1)}
            >
              ↓
            </button>
            <button
              type="button"
              class="btn small"
              aria-label={`Remove ${id}`}
              onClick={() => setChosen(chosen.filter((c) => c !== id))}
            >
              ✕
            </button>
          </li>
        ))}
      </ol>
      <label for="add-pool">Add</label>
      <select
        id="add-pool"
        value=""
        onChange={(e) => {
          const v = (e.target as HTMLSelectElement).value;
          if (v && !chosen.includes(v)) setChosen([...chosen, v]);
        }}
      >
        <option value="">pool…</option>
        {all
          .filter((p) => !chosen.includes(p.id))
          .map((p) => (
            <option value={p.id}>{p.name}</option>
          ))}
      </select>
      <Action
        label="Apply pools"
        kind="primary"
        testId="apply-pools"
        run={() => api(`/api/miners/${enc(props.minerId)}/pools`, { method: 'PUT', body: { pools: chosen } })}
        done={() => current.reload()}
      />
    </fieldset>
  );
}
