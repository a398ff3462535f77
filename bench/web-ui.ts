// web-ui: what the dashboard costs a browser. The bytes of the built files (dist/web/build.json,
// raw and gzip), and in Debian's headless Chromium against a real `mvm fleet` over two simulated
// miners: first contentful paint of the login page, and the time from navigation until the
// dashboard shows the fleet's numbers (a logged-in tab: token in sessionStorage), each over fresh
// browser contexts (empty cache).
// Run: npx tsc -p . && npm run build:web && node dist/bench/run.js web-ui [--quick]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { MVM_BIN, projectPath } from '../shared/paths.js';
import { startAxeosSim, startCgminerSim } from '../sim/index.js';
import { runBench } from './lib/bench.js';
import { CHROMIUM, CHROMIUM_ARGS } from './lib/chromium.js';
import { startNode } from './lib/proc.js';
import { round, summarize } from './lib/stats.js';

runBench('web-ui', async (ctx) => {
  const runs = ctx.quick ? 3 : 10;
  const build = JSON.parse(readFileSync(projectPath('dist', 'web', 'build.json'), 'utf8')) as {
    sizes: Record<string, { bytes: number; gzip: number }>;
  };
  const gamma = await startAxeosSim({ board: '601', seed: 'bench-web' });
  const nano = await startCgminerSim({ model: 'nano3s' });
  const config = join(ctx.dir, 'fleet.toml');
  writeFileSync(
    config,
    [
      '[fleet]',
      'poll_interval = "1s"',
      'udp_port = 0',
      'udp_address = "127.0.0.1"',
      '[miner.gamma]',
      'driver = "axeos"',
      `address = "${gamma.url}"`,
      '[miner.nano]',
      'driver = "cgminer"',
      `address = "${nano.address}"`,
      '',
    ].join('\n'),
  );
  const data = ctx.subdir('fleet-data');
  const fleet = startNode('fleet', MVM_BIN, ['fleet', '--config', config, '--data', data, '--listen', '127.0.0.1:0'], {
    logFile: ctx.log('fleet'),
    env: { MVM_LOG_LEVEL: 'warn' },
  });
  const url = /web UI at (\S+?)\/?$/.exec((await fleet.waitForLine(/^mvm fleet web UI at /, 30_000)).line)![1];
  const token = readFileSync(join(data, 'fleet-api-admin-token'), 'utf8').trim();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const loginFcp: number[] = [];
  const dashboard: number[] = [];
  const transferred: number[] = [];
  try {
    for (let i = 0; i <= runs; i++) {
      // the login page: first contentful paint
      const c1 = await browser.newContext();
      const p1 = await c1.newPage();
      await p1.goto(url + '/');
      await p1.getByLabel('Token').waitFor();
      // (page code as strings: this file is compiled without the DOM's types)
      const fcp = (await p1.evaluate(
        "new Promise((r) => new PerformanceObserver((l) => r(l.getEntries().find((e) => e.name === 'first-contentful-paint').startTime)).observe({ type: 'paint', buffered: true }))",
      )) as number;
      await c1.close();
      // a logged-in tab opening the dashboard: until the fleet's hashrate is on screen
      const c2 = await browser.newContext();
      await c2.addInitScript(`sessionStorage.setItem('mvm.token', ${JSON.stringify(token)})`);
      const p2 = await c2.newPage();
      let bytes = 0;
      p2.on(
        'response',
        (r) =>
          void r
            .request()
            .sizes()
            .then((s) => (bytes += s.responseBodySize + s.responseHeadersSize))
            .catch(() => {}),
      );
      await p2.goto(url + '/');
      await p2.getByTestId('stat-hashrate').waitFor();
      const shown = await p2.evaluate(() => performance.now());
      await c2.close();
      if (i === 0) continue; // warm-up: the daemon's and the browser's first time
      loginFcp.push(fcp);
      dashboard.push(shown);
      transferred.push(bytes);
    }
  } finally {
    await browser.close();
    await fleet.stop(5000);
    await Promise.all([gamma.close(), nano.close()]);
  }
  const files = Object.entries(build.sizes);
  const sum = (ext: string, k: 'bytes' | 'gzip') =>
    files.filter(([n]) => n.endsWith(ext)).reduce((a, [, s]) => a + s[k], 0);
  return {
    runs,
    js_bytes: sum('.js', 'bytes'),
    js_gzip_bytes: sum('.js', 'gzip'),
    css_bytes: sum('.css', 'bytes'),
    css_gzip_bytes: sum('.css', 'gzip'),
    files: build.sizes,
    login_first_contentful_paint_ms: summarize(loginFcp),
    dashboard_numbers_shown_ms: summarize(dashboard),
    dashboard_transferred_kb: round(summarize(transferred).p50 / 1024, 1),
  };
});
