// A time-series chart (uPlot): x in ms, one or more series, sized to its container, colours from
// the theme. data-drawn on the wrapper counts the points of the last draw (the browser tests read it).
import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';

// uPlot is loaded with the first chart, so pages without one (the dashboard) paint sooner
let loading: Promise<typeof uPlot> | null = null;
const loadUPlot = () => (loading ??= import('uplot').then((m) => m.default));

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  /** CSS colour or a --var name */
  color: string;
  dash?: boolean;
  /** draw as bars (price slots) */
  bars?: boolean;
}

function cssVar(el: Element, v: string): string {
  return v.startsWith('--') ? getComputedStyle(el).getPropertyValue(v).trim() || '#888' : v;
}

export function Chart(props: {
  xs: number[];
  series: ChartSeries[];
  height?: number;
  unit?: string;
  testId?: string;
  title: string;
  marks?: number[];
  /** the x range shown (ms), else the data's */ range?: [number, number];
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;
  useEffect(() => {
    let gone = false;
    let ro: ResizeObserver | null = null;
    void loadUPlot().then((UPlot) => {
      if (gone) return;
      build(UPlot);
    });
    return () => {
      gone = true;
      ro?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    function build(UPlot: typeof uPlot) {
      const el = box.current!;
      const axis = {
        stroke: cssVar(el, '--muted'),
        grid: { stroke: cssVar(el, '--grid'), width: 1 },
        ticks: { stroke: cssVar(el, '--grid') },
      };
      const marks = new Set(props.marks ?? []);
      const opts: uPlot.Options = {
        width: Math.max(200, el.clientWidth),
        height: props.height ?? 220,
        ms: 1,
        legend: { show: true },
        cursor: { drag: { x: true, y: false } },
        scales: {
          x: { time: true, range: (_u: uPlot, min: number, max: number) => latest.current.range ?? [min, max] },
        },
        axes: [axis, { ...axis, label: props.unit, size: 60 }],
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: cssVar(el, s.color),
            width: 2,
            dash: s.dash ? [6, 4] : undefined,
            fill: s.bars ? cssVar(el, s.color) + '55' : undefined,
            paths: s.bars ? UPlot.paths.bars!({ size: [0.9, 40] }) : undefined,
            points: { show: false },
            spanGaps: false,
          })),
        ],
        hooks: {
          draw: [
            (u: uPlot) => {
              const n = u.data
                .slice(1)
                .reduce((acc, ys) => acc + (ys as Array<number | null>).filter((y) => y != null).length, 0);
              el.dataset.drawn = String(n);
              if (marks.size === 0) return;
              // cheapest slots: a dot above the bar
              const ctx = u.ctx;
              ctx.save();
              ctx.fillStyle = cssVar(el, '--good');
              u.data[0].forEach((x, i) => {
                if (!marks.has(x)) return;
                const y = u.data[1][i];
                if (y == null) return;
                ctx.beginPath();
                ctx.arc(
                  u.valToPos(x, 'x', true),
                  u.valToPos(y, 'y', true) - 8 * devicePixelRatio,
                  4 * devicePixelRatio,
                  0,
                  Math.PI * 2,
                );
                ctx.fill();
              });
              ctx.restore();
            },
          ],
        },
      };
      const now = latest.current;
      const data = [now.xs, ...now.series.map((s) => s.values)] as uPlot.AlignedData;
      plot.current = new UPlot(opts, data, el);
      ro = new ResizeObserver(() =>
        plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: props.height ?? 220 }),
      );
      ro.observe(el);
    }
    // a new set of series (or marks) rebuilds the chart; new data alone is a setData below
  }, [props.series.map((s) => s.label).join('|'), (props.marks ?? []).join(',')]);
  useEffect(() => {
    plot.current?.setData([props.xs, ...props.series.map((s) => s.values)] as uPlot.AlignedData);
  }, [props.xs, props.series]);
  return <div class="chart" ref={box} role="img" aria-label={props.title} data-testid={props.testId} />;
}
