// The exit statuses, decided from the error a command ends with (the processes' statuses are
// checked in ci.test.ts and the tests of each command).
import t from 'tap';
import { EXIT, exitCodeFor } from '../../cli/exit-codes.js';
import { ApiError, ConfigError, DeviceError, MvmError } from '../../shared/errors.js';

const api = (status: number | undefined) => new ApiError('GET', 'http://x/y', status, `status ${status}`);

t.test('each kind of failure has its status', async (t) => {
  t.equal(exitCodeFor(new MvmError('USAGE', 'bad flag')), EXIT.usage);
  t.equal(exitCodeFor(new MvmError('ABORTED', 'SIGTERM')), EXIT.interrupted);
  t.equal(exitCodeFor(new MvmError('NETWORK', 'cannot reach', { cause: api(undefined) })), EXIT.infrastructure);
  t.equal(exitCodeFor(new MvmError('TIMEOUT', 'no verdict')), EXIT.infrastructure);
  t.equal(exitCodeFor(new MvmError('API_ERROR', 'refused', { cause: api(401) })), EXIT.auth);
  t.equal(exitCodeFor(new MvmError('API_ERROR', 'not allowed', { cause: api(403) })), EXIT.auth);
  t.equal(exitCodeFor(new MvmError('FORBIDDEN', 'not the owner')), EXIT.auth);
  t.equal(exitCodeFor(new MvmError('CONFIG_INVALID', 'token refused', { cause: api(401) })), EXIT.auth);
  t.equal(exitCodeFor(api(503)), EXIT.infrastructure, 'an API failure as it is');
  t.equal(exitCodeFor(new MvmError('API_ERROR', 'server error', { cause: api(500) })), EXIT.infrastructure);
  t.equal(exitCodeFor(new MvmError('API_ERROR', 'bad target', { cause: api(400) })), EXIT.failed);
  t.equal(exitCodeFor(new MvmError('NOT_FOUND', 'no job')), EXIT.failed);
  t.equal(exitCodeFor(new ConfigError([{ file: 'f', key: 'k', message: 'm' }])), EXIT.failed);
  t.equal(exitCodeFor(new Error('boom')), EXIT.failed);
});

t.test('a device error caused by a lost connection is the work failing, not the lab', async (t) => {
  const lost = new MvmError('NETWORK', 'ECONNREFUSED', { cause: api(undefined) });
  t.equal(exitCodeFor(new DeviceError('gamma', 'verify failed', { cause: lost })), EXIT.failed);
});
