// Every miner with its live telemetry; updates as readings arrive.
import { ago, celsius, hashrate, jth, watts } from '../format.js';
import { useLive } from '../live.js';
import { Badge, Section } from '../ui/parts.js';
import { ListTable } from '../ui/table.js';
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
        <ListTable<Miner>
          l={miners}
          what="miners"
          listKeys={['miners']}
          empty="No miners: add [miner.NAME] entries to the fleet config, or testbeds to the factory's."
          testId="miners"
          columns={[
            'Miner',
            'Status',
            'Hashrate',
            { label: 'Expected', hideSm: true },
            'Power',
            { label: 'Efficiency', hideSm: true },
            'Temp',
            { label: 'Seen', hideSm: true },
          ]}
          row={(m) => (
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
          )}
        />
      </Section>
    </>
  );
}
