// A device that takes connections and never answers, and a testbed description naming it: a
// runner sent there waits on its request, holding the testbed for as long as the test wants.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

/** Listens on a free loopback port until the test ends; its URL. */
export async function startSilentDevice(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const server = createServer(() => {
    /* never answers */
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** Writes to `file` a description of testbed `testbed` whose AxeOS device `miner` is at `url`, waited on for ten minutes a request. */
export function writeSilentTestbed(file: string, testbed: string, url: string): void {
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      testbed,
      devices: [{ name: 'miner', driver: 'axeos', address: url, options: { request_timeout_ms: 600_000 } }],
    }),
  );
}
