// The baseline the telemetry bench sets the driver against: the plainest poller one would write —
// node:http, a new connection for every request (agent: false), the body parsed as JSON. No
// timeouts, no error typing, no normalising: what a reading costs at least without keep-alive.
import { get } from 'node:http';

export function naiveRead(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/api/system/info`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
