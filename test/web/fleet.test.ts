// The web UI served by a real `mvm fleet` daemon (its own fleet/web plugins, the built dist/web)
// over real AxeOS and cgminer simulators, in Debian's headless Chromium: every page loads with no
// console error, the dashboard's numbers are the API's, the miner page's chart has drawn the
// collected samples, a mode change from the miner page reaches the simulator, a read-only token
// (made through /api/tokens) sees no action button, a wrong token gets the login page. One
// browser for the file; screenshots in test-output/web/fleet/.
import t from 'tap';
import { existsSync } from 'node:fs';
import { startAxeosSim, startCgminerSim } from '../../sim/index.js';
import { modeSetting, type AsicModel } from '../../runner/drivers/axeos/models.js';
import { CHROMIUM, launchBrowser, login, visit } from '../helpers/browser.js';
import { waitFor } from '../helpers/mvm-process.js';
import { startFleet } from '../fleet/daemon-helpers.js';

const PAGES: Array<[string, string, string]> = [
  ['/', '[data-testid=stat-hashrate]', 'dashboard'],
  ['/miners', '[data-testid=miners]', 'miners'],
  ['/miners/gamma', '[data-testid=chart-hashrate][data-drawn]', 'miner'],
  ['/pools', 'h1:text("Pools")', 'pools'],
  // the daemon serves energy and automation (in its /openapi.json): the pages show their data, not "not available"
  ['/automation', '[data-testid=rules]:has-text("eco when dear")', 'automation'],
  ['/energy', '[data-testid=costs]', 'energy'],
  ['/testbeds', 'h1:text("Testbeds")', 'testbeds'],
  ['/jobs', 'h1:text("Jobs")', 'jobs'],
  ['/settings', '[data-testid=session]', 'settings'],
];

t.test(
  'web UI on a real fleet daemon',
  { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium` },
  async (t) => {
    const gamma = await startAxeosSim({ board: '601', seed: 'web-gamma' });
    const nano = await startCgminerSim({ model: 'nano3s' });
    t.teardown(() => Promise.all([gamma.close(), nano.close()]).then(() => undefined));
    const fleet = await startFleet(
      t,
      [
        '[fleet]',
        'poll_interval = "500ms"',
        'udp_port = 0',
        'udp_address = "127.0.0.1"',
        '',
        '[miner.gamma]',
        'driver = "axeos"',
        `address = "${gamma.url}"`,
        '',
        '[miner.nano]',
        'driver = "cgminer"',
        `address = "${nano.address}"`,
        '',
      ].join('\n'),
    );
    const made = await fleet.call('POST', '/api/tokens', { body: { name: 'viewer', role: 'read' } });
    t.equal(made.status, 201, 'a read-only token made through the API');
    const viewer = made.body.token as string;
    await waitFor(
      async () =>
        (await fleet.call('GET', '/api/miners/')).body.every((m: { status: string }) => m.status === 'online'),
      'every miner online',
      30_000,
    );
    await waitFor(
      async () => (await fleet.call('GET', '/api/miners/gamma/history?from=1h')).body.points?.length >= 3,
      'a few samples of gamma',
      30_000,
    );
    const rule = await fleet.call('POST', '/api/automation/', {
      body: {
        name: 'eco when dear',
        trigger: { type: 'price_above', threshold: 1000 },
        action: { type: 'set_mode', mode: 'eco' },
        conditions: { miners: ['gamma'] },
      },
    });
    t.equal(rule.status, 201, 'a rule for the automation page');
    const b = await launchBrowser(t, 'fleet');

    await t.test('the daemon serves the UI beside its API', async (t) => {
      const page = await fetch(fleet.url + '/miners/gamma');
      t.equal(page.status, 200, 'a page route answers without a token');
      t.match(page.headers.get('content-type'), /^text\/html/);
      t.equal((await fetch(fleet.url + '/api/miners/')).status, 401, '/api still needs a token');
    });

    await t.test('a wrong token gets the login page', async (t) => {
      const { page, context } = await b.open();
      await page.goto(fleet.url + '/');
      await page.getByLabel('Token').fill('wrong-token');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').filter({ hasText: 'invalid token' }).waitFor();
      t.equal(await page.getByTestId('who').count(), 0);
      await b.shot(page, 'login-refused');
      await context.close();
    });

    await t.test('every page as the admin, no console error; the dashboard shows the API numbers', async (t) => {
      const { page, errors, context } = await b.open();
      await login(page, fleet.url, fleet.adminToken);
      await page.waitForFunction(() => document.querySelector('[data-testid=live]')?.textContent?.includes('live'));
      // the numbers move with every reading: the page and the API agree once a read of both falls between two readings
      await waitFor(
        async () => {
          const api = (await fleet.call('GET', '/api/dashboard/stats')).body;
          const ui = await page.evaluate(() =>
            Object.fromEntries(
              ['stat-hashrate', 'stat-power', 'stat-online', 'stat-offline'].map((id) => [
                id,
                document.querySelector(`[data-testid=${id}]`)?.getAttribute('data-value'),
              ]),
            ),
          );
          const again = (await fleet.call('GET', '/api/dashboard/stats')).body;
          return (
            api.hashrateGhs === again.hashrateGhs &&
            ui['stat-hashrate'] === String(api.hashrateGhs) &&
            ui['stat-power'] === String(api.powerW) &&
            ui['stat-online'] === String(api.online) &&
            ui['stat-offline'] === String(api.offline)
          );
        },
        'the dashboard showing the API stats',
        60_000,
      );
      t.pass('hashrate, power, online and offline as GET /api/dashboard/stats says');
      t.equal(await page.getByTestId('stat-online').getAttribute('data-value'), '2');
      for (const [p, ready, name] of PAGES) {
        await visit(page, p, ready);
        await b.shot(page, name);
      }
      const drawn = Number(
        await page
          .evaluate(() => {
            history.pushState(null, '', '/miners/gamma');
            dispatchEvent(new PopStateEvent('popstate'));
          })
          .then(() => page.locator('[data-testid=chart-hashrate][data-drawn]').getAttribute('data-drawn')),
      );
      t.ok(drawn >= 3, `the hashrate chart drew ${drawn} collected points`);
      t.same(errors, [], 'no console errors on any page');
      await context.close();
    });

    await t.test('a mode change from the miner page reaches the simulator', async (t) => {
      const { page, errors, context } = await b.open();
      await login(page, fleet.url, fleet.adminToken);
      await visit(page, '/miners/gamma', '[data-testid=mode-select]');
      await page.locator('[data-testid=mode-select] option[value=eco]').waitFor({ state: 'attached' });
      const info = async () =>
        (await (await fetch(`${gamma.url}/api/system/info`)).json()) as {
          frequency: number;
          coreVoltage: number;
          ASICModel: AsicModel;
        };
      const eco = modeSetting('eco', (await info()).ASICModel);
      t.not((await info()).frequency, eco.frequency, 'not in eco before');
      await page.getByTestId('mode-select').selectOption('eco');
      await page.getByTestId('set-mode').click();
      await page.getByTestId('current-mode').filter({ hasText: 'eco' }).waitFor();
      t.match(await info(), { frequency: eco.frequency, coreVoltage: eco.coreVoltage }, 'the simulator runs eco');
      const events = (await fleet.call('GET', '/api/dashboard/events/recent?miner=gamma&kind=mode')).body as Array<{
        actor: string;
      }>;
      t.ok(events.length >= 1, 'the daemon recorded the mode change');
      await b.shot(page, 'miner-eco');
      t.same(errors, []);
      await context.close();
    });

    await t.test('a read-only token sees no action button', async (t) => {
      const { page, errors, context } = await b.open();
      await login(page, fleet.url, viewer);
      t.match(await page.getByTestId('who').textContent(), /viewer.*read-only/);
      for (const [p, ready] of PAGES) {
        await visit(page, p, ready);
        t.equal(await page.locator('[data-action]').count(), 0, `no action on ${p}`);
      }
      await b.shot(page, 'read-only-settings');
      t.same(errors, [], 'no console errors (nothing a read-only token may not read is asked)');
      await context.close();
    });
  },
);
