// Energy: the price timeline for today and tomorrow (the cheapest slots marked), the price now and
// next, and what each miner's energy cost.
import { useMemo } from 'preact/hooks';
import { hasApi, ifApi, listOf } from '../api.js';
import { money, num, pence, priceOf, slotStart, today as todayOf, type EnergyUse } from '../format.js';
import { useLive } from '../live.js';
import { Chart } from '../ui/chart.js';
import { Section, Show, Stat } from '../ui/parts.js';
import { DataTable } from '../ui/table.js';
import { useApi } from '../ui/use-api.js';

const CHEAPEST = 6;

interface MinerCost {
  minerId: string;
  total: EnergyUse;
}

export function Energy() {
  const [from, to] = useMemo(() => {
    const d = new Date();
    d.setHours(0, 0, 0, 0);
    return [d.getTime(), d.getTime() + 2 * 86_400_000];
  }, []);
  const timeline = useApi<unknown>(
    ifApi('/api/dashboard/energy/timeline', `/api/dashboard/energy/timeline?from=${from}&to=${to}`),
  );
  const current = useApi<unknown>(ifApi('/api/dashboard/energy/current'));
  const next = useApi<unknown>(ifApi('/api/dashboard/energy/next'));
  const cost = useApi<Record<string, unknown>>(ifApi('/api/dashboard/energy/cost'));
  useLive(
    () => (timeline.reload(), current.reload(), next.reload(), cost.reload()),
    (m) => m.type === 'price' || (m.data as { kind?: string })?.kind === 'price',
    5000,
  );
  if (!hasApi('/api/dashboard/energy/timeline'))
    return (
      <>
        <h1>Energy</h1>
        <p class="muted" data-testid="not-available">
          This fleet daemon has no energy prices (no price source in its API).
        </p>
      </>
    );
  return (
    <>
      <h1>Energy</h1>
      <div class="stats">
        <Stat label="Price now" value={pence(priceOf(current.data))} testId="price-now" />
        <Stat label="Next slot" value={pence(priceOf(next.data))} />
      </div>
      <Section title="Prices today and tomorrow">
        <Show l={timeline} what="price timeline">
          {(d) => <Timeline slots={listOf<unknown>(d, 'slots', 'prices', 'timeline')} />}
        </Show>
      </Section>
      {hasApi('/api/dashboard/energy/cost') && (
        <Section title="Cost per miner">
          <Show l={cost} what="costs">
            {(c) => {
              const miners = listOf<MinerCost>(c, 'miners');
              const today = todayOf(c);
              const month = c.total as EnergyUse | undefined;
              return (
                <>
                  <div class="stats">
                    <Stat label="Energy today" value={today ? `${num(today.kWh)} kWh` : '—'} />
                    <Stat label="Cost today" value={money(today?.cost)} testId="cost-today" />
                    <Stat label="This month" value={month ? `${num(month.kWh)} kWh` : '—'} sub={money(month?.cost)} />
                  </div>
                  {miners.length > 0 && (
                    <DataTable testId="costs" columns={['Miner', 'Energy (month)', 'Cost (month)']}>
                      {miners.map((m) => (
                        <tr>
                          <th scope="row">
                            <a href={`/miners/${encodeURIComponent(m.minerId)}`}>{m.minerId}</a>
                          </th>
                          <td class="num">{`${num(m.total?.kWh)} kWh`}</td>
                          <td class="num">{money(m.total?.cost)}</td>
                        </tr>
                      ))}
                    </DataTable>
                  )}
                </>
              );
            }}
          </Show>
        </Section>
      )}
    </>
  );
}

function Timeline(props: { slots: unknown[] }) {
  const { xs, ys, marks } = useMemo(() => {
    const pts = props.slots
      .map((s) => [slotStart(s), priceOf(s)] as const)
      .filter((p): p is readonly [number, number] => p[0] != null && p[1] != null)
      .sort((a, b) => a[0] - b[0]);
    const cheapest = [...pts]
      .sort((a, b) => a[1] - b[1])
      .slice(0, CHEAPEST)
      .map((p) => p[0]);
    return { xs: pts.map((p) => p[0]), ys: pts.map((p) => p[1]), marks: cheapest };
  }, [props.slots]);
  if (xs.length === 0) return <p class="muted">No prices known for today or tomorrow yet.</p>;
  return (
    <>
      <Chart
        title="Price per slot"
        testId="chart-prices"
        xs={xs}
        series={[{ label: 'p/kWh', color: '--accent', values: ys, bars: true }]}
        unit="p/kWh"
        height={260}
        marks={marks}
      />
      <p class="muted small">
        ● the {CHEAPEST} cheapest slots:{' '}
        {[...marks]
          .sort((a, b) => a - b)
          .map((t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }))
          .join(', ')}
      </p>
    </>
  );
}
