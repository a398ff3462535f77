// shared/retry.ts: retry() with a bound, and persist(), which calls a server until it answers.
import t from 'tap';
import pino from 'pino';
import { Writable } from 'node:stream';
import { persist, retry } from '../../shared/retry.js';

/** A logger whose lines land in `lines` (level name, message, fields). */
function capture() {
  const lines: Array<{ level: string; msg: string; attempt?: number; what?: string }> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      const o = JSON.parse(String(chunk));
      lines.push({ level: pino.levels.labels[o.level], msg: o.msg, attempt: o.attempt, what: o.what });
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

t.test('persist retries retryable failures until the call answers, logging the first at warn', async (t) => {
  const { log, lines } = capture();
  let calls = 0;
  const v = await persist(
    async () => {
      calls++;
      if (calls < 4) throw refused();
      return 'answer';
    },
    { log, what: 'ping', baseMs: 1, maxMs: 2 },
  );
  t.equal(v, 'answer');
  t.equal(calls, 4);
  const failed = lines.filter((l) => l.msg === 'server call failed; retrying');
  t.same(
    failed.map((l) => [l.level, l.attempt, l.what]),
    [
      ['warn', 1, 'ping'],
      ['debug', 2, 'ping'],
      ['debug', 3, 'ping'],
    ],
  );
  t.match(lines.at(-1), { level: 'info', msg: 'server call succeeded after retries', attempt: 4 });
});

t.test('persist throws a failure that is not retryable at once, unless retryAlso takes it', async (t) => {
  const { log } = capture();
  let calls = 0;
  const notYet = Object.assign(new Error('409 not yet'), { status: 409 });
  await t.rejects(
    persist(
      async () => {
        calls++;
        throw notYet;
      },
      { log, what: 'commit', baseMs: 1 },
    ),
    notYet,
  );
  t.equal(calls, 1);
  calls = 0;
  const v = await persist(
    async () => {
      if (++calls < 3) throw notYet;
      return calls;
    },
    { log, what: 'commit', baseMs: 1, retryAlso: (err) => err === notYet },
  );
  t.equal(v, 3);
});

t.test('only the signal ends persist', async (t) => {
  const { log } = capture();
  const ctl = new AbortController();
  let calls = 0;
  const p = persist(
    async () => {
      if (++calls === 5) ctl.abort(new Error('stopping'));
      throw refused();
    },
    { log, what: 'ping', baseMs: 1, maxMs: 1, signal: ctl.signal },
  );
  await t.rejects(p, { code: 'ECONNREFUSED' });
  t.equal(calls, 5);
});

t.test('retry gives up after its attempts', async (t) => {
  let calls = 0;
  await t.rejects(
    retry(
      async () => {
        calls++;
        throw refused();
      },
      { attempts: 3, baseMs: 1 },
    ),
    { code: 'ECONNREFUSED' },
  );
  t.equal(calls, 3);
});
