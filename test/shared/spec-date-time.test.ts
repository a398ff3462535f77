// The spec validator's cheaper date-time check answers exactly as ajv-formats' own, whatever
// order strings come in (its shortcut depends on the last valid one).
import t from 'tap';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { sameSecondDateTime, SpecValidator } from '../../shared/api/spec.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

t.test('same answers as ajv-formats date-time', async (t) => {
  const ajv = addFormats(new Ajv());
  const original = (ajv.formats['date-time'] as { validate: (s: string) => boolean }).validate;
  const fast = sameSecondDateTime(original);
  const seconds = [
    '2026-12-05T03:22:38',
    '2026-12-05T23:59:60',
    '2026-12-05T22:59:60',
    '2024-02-29T12:00:00',
    '2026-02-29T12:00:00',
    '2026-12-05T24:00:00',
    '2026-12-05t03:22:38',
    '2026-12-05 03:22:38',
  ];
  const tails = ['.1Z', '.123456Z', '.999999999Z', 'Z', '.123z', '.123+01:00', '.Z', '.12a4Z', '.123456Zx', ''];
  const strings = seconds.flatMap((s) => tails.map((tail) => s + tail));
  const differ: string[] = [];
  for (let round = 0; round < 20; round++) {
    // Shuffled, so every string follows every kind of predecessor at some point.
    for (const s of [...strings].sort(() => Math.random() - 0.5)) if (fast(s) !== original(s)) differ.push(s);
  }
  t.same(differ, [], 'no string is judged differently');
});

t.test('the spec validator uses it for worker event times', async (t) => {
  const v = new SpecValidator();
  const ev = (time: string) => [{ stream: 'stdout', payload: 'x', time, task: 0 }];
  const op = v.operations.find((o) => o.operationId === 'worker_job_append')!;
  t.same(v.check(op.requestSchema, ev('2026-12-05T03:22:38.123456Z')), []);
  t.same(v.check(op.requestSchema, ev('2026-12-05T03:22:38.123457Z')), []);
  t.ok(v.check(op.requestSchema, ev('2026-12-05T03:22:38.Z')).length > 0, 'a bad fraction in the same second');
  t.ok(v.check(op.requestSchema, ev('2026-12-05T03:22:61.1Z')).length > 0, 'a bad second');
});
