// `mvm server` usage: bad flags exit 2 with a hint; an address in use exits 1 and says so.
// Spawns `mvm server` (the command line and its exit codes are under test), so it is not in the
// unit tier; the server holding the address runs in-process.
import t from 'tap';
import { runMvm } from '../helpers/mvm-process.js';
import { startServerInProcess } from '../helpers/server-inprocess.js';
import { tempDir } from '../helpers/tmp.js';

t.test('mvm server refuses bad flags clearly', async (t) => {
  const dir = tempDir(t);
  const listen = await runMvm(['server', '--data', dir, '--listen', 'nonsense']);
  t.equal(listen.code, 2);
  t.match(listen.stderr, /--listen "nonsense": expected HOST:PORT\n\s+hint: for example --listen 127\.0\.0\.1:9300/);
  const dur = await runMvm(['server', '--data', dir, '--listen', '127.0.0.1:0', '--max-runtime', 'soon']);
  t.equal(dur.code, 2);
  t.match(dur.stderr, /--max-runtime "soon" is not a duration/);

  const srv = await startServerInProcess(t);
  const busy = await runMvm(['server', '--data', tempDir(t), '--listen', new URL(srv.url).host]);
  t.equal(busy.code, 1);
  t.match(busy.stderr, /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE[^]*hint: pick another --listen address/);
});
