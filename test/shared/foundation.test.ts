import t from 'tap';
import { backoffDelay, retry } from '../../shared/retry.js';
import { sleep, Waker } from '../../shared/sleep.js';
import { ApiError, isRetryable, MvmError } from '../../shared/errors.js';
import { parseDuration } from '../../shared/duration.js';
import { hashToken, isUlid, newId, newToken, tokenMatches } from '../../shared/ids.js';
import { SpecValidator } from '../../shared/api/spec.js';
import { runMvm } from '../helpers/mvm-process.js';
import { createLogger } from '../../shared/log.js';
import { Writable } from 'node:stream';

t.test('backoff grows exponentially with full jitter, capped', async (t) => {
  t.equal(
    backoffDelay(1, 100, 10_000, () => 1),
    100,
  );
  t.equal(
    backoffDelay(4, 100, 10_000, () => 1),
    800,
  );
  t.equal(
    backoffDelay(20, 100, 10_000, () => 1),
    10_000,
  );
  t.equal(
    backoffDelay(3, 100, 10_000, () => 0),
    0,
  );
});

t.test('retry retries only retryable errors', async (t) => {
  let calls = 0;
  const v = await retry(
    async () => {
      if (++calls < 3) throw new ApiError('GET', 'http://x', 503, 'unavailable');
      return 'ok';
    },
    { baseMs: 1 },
  );
  t.equal(v, 'ok');
  t.equal(calls, 3);
  calls = 0;
  await t.rejects(
    retry(
      async () => {
        calls++;
        throw new ApiError('GET', 'http://x', 400, 'bad');
      },
      { baseMs: 1 },
    ),
  );
  t.equal(calls, 1, '4xx is not retried');
  t.ok(isRetryable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })));
  t.notOk(isRetryable(new MvmError('CONFIG_INVALID', 'x')));
});

t.test('sleep aborts at once', async (t) => {
  const ac = new AbortController();
  const p = sleep(60_000, ac.signal);
  ac.abort(new Error('stop'));
  await t.rejects(p, { code: 'ABORTED' });
});

t.test('waker wakes a waiter before its timeout, and remembers an early wake', async (t) => {
  const w = new Waker();
  const start = Date.now();
  const p = w.wait(60_000);
  w.wake();
  await p;
  t.ok(Date.now() - start < 1000);
  w.wake();
  await w.wait(60_000);
  t.pass('pending wake consumed');
});

t.test('durations', async (t) => {
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('1h30m'), 5_400_000);
  t.equal(parseDuration('7'), 7000);
  t.equal(parseDuration('7 s'), undefined);
  t.equal(parseDuration('soon'), undefined);
});

t.test('ids and tokens', async (t) => {
  t.ok(isUlid(newId()));
  const tok = newToken();
  t.equal(tok.length, 64);
  t.ok(tokenMatches(tok, hashToken(tok)));
  t.notOk(tokenMatches(tok + 'x', hashToken(tok)));
});

t.test('spec validator knows the buildomat operations', async (t) => {
  const v = new SpecValidator();
  t.equal(v.find('GET', '/0/worker/ping')?.operationId, 'worker_ping');
  t.equal(v.find('POST', '/0/worker/job/01ABC/task/3/complete')?.operationId, 'worker_task_complete');
  t.same(v.validateRequest('POST', '/0/factory/lease', 'application/json', { supported_targets: ['x'] }), []);
  t.ok(v.validateRequest('POST', '/0/factory/lease', 'application/json', {}).length > 0);
  t.same(v.validateResponse('GET', '/0/factory/worker/x', 200, 'application/json', { worker: null }), []);
  t.same(v.validateResponse('GET', '/0/factory/ping', 401, 'application/json', { message: 'no', request_id: 'r' }), []);
  t.ok(v.validateResponse('GET', '/0/factory/ping', 401, 'application/json', { message: 'no' }).length > 0);
});

t.test('logger redacts secrets', async (t) => {
  let out = '';
  const dest = new Writable({
    write(c, _e, cb) {
      out += c;
      cb();
    },
  });
  const log = createLogger({ pretty: false, destination: dest });
  log.info(
    { token: 'SECRET1', req: { headers: { authorization: 'Bearer SECRET2' } }, worker: { bootstrap: 'SECRET3' } },
    'hello',
  );
  t.notMatch(out, /SECRET/);
  t.match(out, /hello/);
});

t.test('mvm CLI: help, version and a clear usage error', async (t) => {
  const help = await runMvm(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /mvm server/);
  const bad = await runMvm(['no-such-command']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /Unknown argument: no-such-command/);
});
