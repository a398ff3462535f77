// Every miner with its live telemetry; updates as readings arrive.
import { listOf } from '../api.js';
import { ago, celsius, hashrate, jth, watts } from '../format.js';
import { useLive } from '../live.js';
import { Badge, Section, Show } from '../ui/parts.js';
import { useApi } from '../ui/use-api.js';
import type { Miner } from '../types.js';

export function maxTemp(t: Record<string, number> | undefined | null): number | null {
  const v = Object.values(t ?? {});
  return v.length ? Math.max(...v) : null;
}

export function Miners() {
  const miners = useApi<unknown>('/api/miners/');
  useLive(miners.reload);
  return (
    <>
      <h1>Miners</h1>
      <Section title="Fleet">
        <Show l={miners} what="miners">
          {(d) => {
            const list = listOf<Miner>(d, 'miners');
            if (list.length === 0)
              return (
                <p class="muted">
                  No miners: add [miner.NAME] entries to the fleet config, or testbeds to the factory's.
                </p>
              );
            return (
              <div class="table-wrap">
                <table data-testid="miners">
                  <thead>
                    <tr>
                      <th scope="col">Miner</th>
                      <th scope="col">Status</th>
                      <th scope="col">Hashrate</th>
                      <th scope="col" class="hide-sm">
                        Expected
                      </th>
                      <th scope="col">Power</th>
                      <th scope="col" class="hide-sm">
                        Efficiency
                      </th>
                      <th scope="col">Temp</th>
                      <th scope="col" class="hide-sm">
                        Seen
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((m) => (
                      <tr key={m.id} data-miner={m.id}>
                        <th scope="row">
                          <a href={`/miners/${encodeURIComponent(m.id)}`}>{m.id}</a>
                          <div class="muted small">
                            {m.model ?? m.driver}
                            {m.testbed && ` · testbed ${m.testbed}`}
                          </div>
                        </th>
                        <td>
                          <Badge kind={m.status} />
                          {m.last?.paused && <Badge kind="paused" />}
                        </td>
                        <td class="num" data-value={m.last?.hashrateGhs ?? ''}>
                          {hashrate(m.last?.hashrateGhs)}
                        </td>
                        <td class="num hide-sm">{hashrate(m.expectedHashrateGhs ?? m.last?.expectedHashrateGhs)}</td>
                        <td class="num">{watts(m.last?.powerW)}</td>
                        <td class="num hide-sm">{jth(m.last?.efficiencyJth)}</td>
                        <td class="num">{celsius(maxTemp(m.last?.temperatures))}</td>
                        <td class="hide-sm">{ago(m.lastSeenAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            );
          }}
        </Show>
      </Section>
    </>
  );
}
