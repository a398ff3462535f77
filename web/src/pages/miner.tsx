// One miner: live numbers, history charts over 1 h / 24 h / 7 d / 30 d, mode, pools, events and
// actions (mode, restart, pause/resume, pools). Charts and numbers follow the live stream.
import { useMemo, useState } from 'preact/hooks';
import { api, enc, listOf } from '../api.js';
import { ago, celsius, hashrate, hashrateUnit, jth, watts } from '../format.js';
import { useLive, type LiveMessage } from '../live.js';
import { Action, IfCanAct } from '../ui/action.js';
import { Chart, type ChartSeries } from '../ui/chart.js';
import { EventList } from '../ui/events.js';
import { Badge, Section, Show, Stat } from '../ui/parts.js';
import { useApi } from '../ui/use-api.js';
import type { FleetEvent, HistoryResult, Miner } from '../types.js';
import { maxTemp } from './miners.js';
import { PoolPicker } from './pool-picker.js';

const RANGES: Array<[string, number]> = [
  ['1h', 3600_000],
  ['24h', 86_400_000],
  ['7d', 7 * 86_400_000],
  ['30d', 30 * 86_400_000],
];

const TEMP_COLOURS = ['--warn', '--bad', '--accent2', '--muted'];

function aboutMiner(id: string) {
  return (m: LiveMessage) => {
    const d = m.data as { minerId?: string; miner?: string } | null;
    return !!d && (d.minerId === id || d.miner === id);
  };
}

export function MinerPage(props: { id: string }) {
  const base = `/api/miners/${enc(props.id)}`;
  const miner = useApi<Miner>(base);
  const modes = useApi<unknown>(`${base}/modes`);
  const events = useApi<unknown>(`/api/dashboard/events/recent?limit=30&miner=${enc(props.id)}`);
  const [range, setRange] = useState('1h');
  const [to, setTo] = useState(() => Date.now());
  const span = RANGES.find(([r]) => r === range)![1];
  const history = useApi<HistoryResult>(`${base}/history?from=${to - span}&to=${to}`);
  useLive(() => {
    miner.reload();
    events.reload();
  }, aboutMiner(props.id));
  // a new reading moves the window on (re-reads the history); at most every 5 s
  useLive(() => setTo(Date.now()), aboutMiner(props.id), 5000);

  const modeList = listOf<string | { name: string }>(modes.data, 'modes', 'available').map((m) =>
    typeof m === 'string' ? m : m.name,
  );
  const currentMode =
    (modes.data as { desired?: string | null; current?: string } | undefined)?.desired ??
    (modes.data as { current?: string } | undefined)?.current ??
    miner.data?.desired?.mode ??
    null;
  const [mode, setMode] = useState<string>('');

  return (
    <>
      <p>
        <a href="/miners">← Miners</a>
      </p>
      <h1>{props.id}</h1>
      <Show l={miner} what="miner">
        {(m) => (
          <Section title="Now" actions={<Badge kind={m.status} />}>
            <div class="stats" data-testid="miner-now">
              <Stat
                label="Hashrate"
                value={hashrate(m.last?.hashrateGhs)}
                sub={`expected ${hashrate(m.expectedHashrateGhs ?? m.last?.expectedHashrateGhs)}`}
              />
              <Stat label="Power" value={watts(m.last?.powerW)} />
              <Stat label="Efficiency" value={jth(m.last?.efficiencyJth)} />
              <Stat label="Hottest" value={celsius(maxTemp(m.last?.temperatures))} />
              <Stat
                label="Mode"
                value={<span data-testid="current-mode">{currentMode ?? '—'}</span>}
                sub={m.last?.paused ? 'paused' : undefined}
              />
            </div>
            <p class="muted small">
              {m.model ?? m.driver} at {m.address} ·{' '}
              {m.source === 'config'
                ? 'from the config'
                : m.source === 'testbed'
                  ? `device of testbed ${m.testbed}`
                  : 'added through the API'}
              {m.tags.length > 0 && ` · tags ${m.tags.join(', ')}`} · last reading {ago(m.lastSeenAt)}
              {m.lastError && <span class="error"> · {m.lastError}</span>}
            </p>
          </Section>
        )}
      </Show>
      <IfCanAct>
        <Section title="Actions">
          <div class="actions" data-testid="miner-actions">
            {/* A driver without modes (NMMiner) gets no mode control; the API says so if asked. */}
            {modeList.length > 0 && (
              <span class="field">
                <label for="mode">Mode</label>
                <select
                  id="mode"
                  value={mode}
                  onChange={(e) => setMode((e.target as HTMLSelectElement).value)}
                  data-testid="mode-select"
                >
                  <option value="">choose…</option>
                  {modeList.map((x) => (
                    <option value={x}>{x}</option>
                  ))}
                </select>
                <Action
                  label="Set mode"
                  kind="primary"
                  testId="set-mode"
                  disabled={!mode}
                  run={() => api(`${base}/mode`, { method: 'POST', body: { mode } })}
                  done={() => (miner.reload(), modes.reload(), events.reload())}
                />
              </span>
            )}
            <Action
              label="Restart"
              testId="restart"
              confirm={`Restart ${props.id}?`}
              run={() => api(`${base}/restart`, { method: 'POST' })}
              done={() => events.reload()}
            />
            <Action
              label="Pause"
              testId="pause"
              run={() => api(`${base}/pause`, { method: 'POST' })}
              done={() => (miner.reload(), events.reload())}
            />
            <Action
              label="Resume"
              testId="resume"
              run={() => api(`${base}/resume`, { method: 'POST' })}
              done={() => (miner.reload(), events.reload())}
            />
          </div>
          <PoolPicker minerId={props.id} />
        </Section>
      </IfCanAct>
      <Section
        title="History"
        actions={
          <div class="seg" role="group" aria-label="Range">
            {RANGES.map(([r]) => (
              <button
                type="button"
                class={`btn ${r === range ? 'btn-primary' : ''}`}
                aria-pressed={r === range}
                onClick={() => (setRange(r), setTo(Date.now()))}
              >
                {r}
              </button>
            ))}
          </div>
        }
      >
        <Show l={history} what="history">
          {(h) => (
            <HistoryCharts
              h={h}
              range={[to - span, to]}
              expected={miner.data?.expectedHashrateGhs ?? miner.data?.last?.expectedHashrateGhs ?? null}
            />
          )}
        </Show>
      </Section>
      <Section title="Events">
        <Show l={events} what="events">
          {(d) => <EventList events={listOf<FleetEvent>(d, 'events')} showMiner={false} />}
        </Show>
      </Section>
    </>
  );
}

function HistoryCharts(props: { h: HistoryResult; expected: number | null; range: [number, number] }) {
  const { points } = props.h;
  const charts = useMemo(() => {
    const xs = points.map((p) => p.t);
    const sensors = [...new Set(points.flatMap((p) => Object.keys(p.temperatures ?? {})))];
    // One unit for the whole chart, the one its largest value reads best in (an NMMiner's kH/s
    // would be 0.000116 GH/s, every tick "0").
    const ghs = points.map((p) => p.hashrateGhs?.mean ?? null);
    const [scale, hashUnit] = hashrateUnit(Math.max(0, props.expected ?? 0, ...ghs.map((v) => v ?? 0)));
    const scaled = (v: number | null) => (v == null ? null : v / scale);
    const hash: ChartSeries[] = [{ label: `hashrate ${hashUnit}`, color: '--accent', values: ghs.map(scaled) }];
    if (props.expected != null)
      hash.push({ label: 'expected', color: '--muted', dash: true, values: points.map(() => scaled(props.expected)) });
    return {
      xs,
      hash,
      hashUnit,
      temps: sensors.map((s, i) => ({
        label: `${s} °C`,
        color: TEMP_COLOURS[i % TEMP_COLOURS.length],
        values: points.map((p) => p.temperatures?.[s]?.mean ?? null),
      })),
      power: [{ label: 'power W', color: '--warn', values: points.map((p) => p.powerW?.mean ?? null) }],
      eff: [{ label: 'J/TH', color: '--accent2', values: points.map((p) => p.efficiencyJth?.mean ?? null) }],
    };
  }, [points, props.expected]);
  if (points.length === 0) return <p class="muted">No samples in this range yet.</p>;
  return (
    <div class="charts">
      <p class="muted small">
        {points.length} points · {props.h.resolution} resolution
      </p>
      <Chart
        title="Hashrate against expected"
        testId="chart-hashrate"
        xs={charts.xs}
        range={props.range}
        series={charts.hash}
        unit={charts.hashUnit}
      />
      {charts.temps.length > 0 && (
        <Chart
          title="Temperatures"
          testId="chart-temps"
          xs={charts.xs}
          range={props.range}
          series={charts.temps}
          unit="°C"
        />
      )}
      <div class="grid2">
        <Chart
          title="Power"
          testId="chart-power"
          xs={charts.xs}
          range={props.range}
          series={charts.power}
          unit="W"
          height={180}
        />
        <Chart
          title="Efficiency"
          testId="chart-efficiency"
          xs={charts.xs}
          range={props.range}
          series={charts.eff}
          unit="J/TH"
          height={180}
        />
      </div>
    </div>
  );
}
