// The runner's progress lines in a job log: throttled to one per 10 s, with rate and ETA for an
// upload and a short reading per check sample (a clock is injected: no timing in the asserts).
import t from 'tap';
import { every, sampleLine, uploadMeter } from '../../runner/device-tests/progress-lines.js';
import type { Telemetry } from '../../runner/drivers/types.js';

t.test('every: the first call, then once per period; force passes at once', async (t) => {
  let now = 0;
  const due = every(10_000, () => now);
  t.ok(due());
  now = 5_000;
  t.notOk(due());
  t.ok(due(true), 'forced');
  now = 14_000;
  t.notOk(due(), 'the period counts from the forced line');
  now = 15_000;
  t.ok(due());
});

t.test('upload: percent, KiB, rate and ETA; the end always said', async (t) => {
  let now = 1_000;
  const lines: string[] = [];
  const meter = uploadMeter((l) => lines.push(l), { now: () => now });
  now = 2_000;
  meter(102_400, 1_024_000);
  now = 3_000;
  meter(204_800, 1_024_000);
  now = 12_000;
  meter(500_000, 1_024_000);
  now = 13_000;
  meter(1_024_000, 1_024_000);
  t.same(lines, [
    'upload 10% (100/1000 KiB, 100 KiB/s, ETA 9 s)',
    'upload 48% (488/1000 KiB, 44 KiB/s, ETA 12 s)',
    'upload 100% (1000/1000 KiB, 83 KiB/s, done)',
  ]);
});

t.test('a sample as a short reading', async (t) => {
  const telemetry = {
    hashrateGhs: 1074.04,
    temperatures: { chip: 61.2, vr: 55 },
    sharesAccepted: 12,
    sharesRejected: 1,
  } as unknown as Telemetry;
  t.equal(sampleLine({ at: 0, telemetry }), '1074 GH/s, 61.2 °C, shares 12/1');
  t.equal(sampleLine({ at: 0, error: 'ECONNREFUSED' }), 'no reading: ECONNREFUSED');
});
