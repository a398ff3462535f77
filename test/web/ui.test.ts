// The web UI in real headless Chromium (Debian's), served by fleet/web/serve.ts from the built
// dist/web, against a stand-in of the fleet API (test/helpers/fleet-stub.ts) and a real AxeOS
// simulator: every page loads with no console error, the dashboard shows the API's numbers, live
// events change them without a reload, charts draw, a mode change reaches the simulator, a
// refusal shows the API's text, a read-only token sees no action, a wrong token gets the login
// page, and the built files are served with the right types and cache headers. One browser for
// the whole file; screenshots of every page go to test-output/web/ui/.
import t from 'tap';
import { existsSync } from 'node:fs';
import { modeSetting, type AsicModel } from '../../runner/drivers/axeos/models.js';
import { launchBrowser, login, visit, CHROMIUM } from '../helpers/browser.js';
import { ADMIN_TOKEN, VIEWER_TOKEN, startFleetStub } from '../helpers/fleet-stub.js';
import { startMvm } from '../helpers/mvm-process.js';
import { WEB_DIST } from '../../fleet/web/serve.js';

const PAGES = [
  '/',
  '/miners',
  '/miners/bitaxe-1',
  '/pools',
  '/automation',
  '/energy',
  '/testbeds',
  '/jobs',
  '/settings',
];

const READY: Record<string, string> = {
  '/': '[data-testid=stat-hashrate]',
  '/miners': '[data-testid=miners]',
  '/miners/bitaxe-1': '[data-testid=chart-hashrate][data-drawn]',
  '/pools': '[data-testid=pools]',
  '/automation': '[data-testid=rules]',
  '/energy': '[data-testid=chart-prices][data-drawn]',
  '/settings': '[data-testid=session]',
  // no lab here: those pages say what to configure (test/web/lab.test.ts runs them on a real lab)
  '/testbeds': '[data-testid=not-configured]',
  '/jobs': '[data-testid=not-configured]',
};

t.test(
  'web UI against the fleet API stand-in',
  { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium` },
  async (t) => {
    t.ok(existsSync(WEB_DIST + '/index.html'), 'the UI is built (npm run build:web)');
    const sim = startMvm(['sim', 'axeos', '--listen', '127.0.0.1:0', '--board', '601'], {
      env: { MVM_LOG_LEVEL: 'warn' },
    });
    t.teardown(() => sim.stop());
    const simUrl = /listening on (\S+)/.exec(await sim.waitForLine(/mvm sim axeos listening on/))![1];
    const stub = await startFleetStub({ axeosSim: simUrl });
    t.teardown(() => stub.close());
    const b = await launchBrowser(t, 'ui');

    await t.test('the server: types, cache headers, page routes, /api untouched', async (t) => {
      const index = await fetch(stub.url + '/miners/bitaxe-1');
      t.equal(index.status, 200);
      t.match(index.headers.get('content-type'), /^text\/html/);
      t.equal(index.headers.get('cache-control'), 'no-cache');
      t.match(index.headers.get('content-security-policy'), /default-src 'self'/);
      const html = await index.text();
      const js = /src="(\/assets\/main-[^"]+\.js)"/.exec(html)?.[1];
      const css = /href="(\/assets\/main-[^"]+\.css)"/.exec(html)?.[1];
      t.ok(js && css, 'index.html names a hashed script and stylesheet');
      const asset = await fetch(stub.url + js, { headers: { 'accept-encoding': 'gzip' } });
      t.match(asset.headers.get('content-type'), /^text\/javascript/);
      t.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      t.equal((await fetch(stub.url + css)).headers.get('content-type'), 'text/css; charset=utf-8');
      const etag = asset.headers.get('etag')!;
      t.equal(
        (await fetch(stub.url + js, { headers: { 'if-none-match': etag } })).status,
        304,
        'revalidation answers 304',
      );
      t.equal((await fetch(stub.url + '/assets/nope.js')).status, 404);
      const api = await fetch(stub.url + '/api/miners/');
      t.equal(api.status, 401, '/api is the API, not the UI (no token: 401)');
      t.equal(
        (await fetch(stub.url + '/api/lab/v1/testbeds', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }))
          .status,
        503,
        'an unconfigured lab says so',
      );
    });

    await t.test('a wrong token gets the login page with the reason', async (t) => {
      const { page, context } = await b.open();
      await page.goto(stub.url + '/');
      await page.getByTestId('login').waitFor();
      await page.getByLabel('Token').fill('not-a-token');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').filter({ hasText: 'invalid token' }).waitFor();
      t.equal(await page.getByTestId('who').count(), 0, 'not logged in');
      t.equal(await page.evaluate(() => sessionStorage.getItem('mvm.token')), null, 'the wrong token is not kept');
      await b.shot(page, 'login-refused');
      // a token that stops working mid-session also ends on the login page
      await login(page, stub.url, ADMIN_TOKEN);
      await page.evaluate(() => sessionStorage.setItem('mvm.token', 'revoked'));
      await page.reload();
      await page.getByTestId('login').waitFor();
      await context.close();
    });

    await t.test('every page as an admin: no console error, a screenshot each', async (t) => {
      const { page, errors, context } = await b.open();
      await login(page, stub.url, ADMIN_TOKEN);
      for (const p of PAGES) {
        await visit(page, p, READY[p]);
        await b.shot(page, p === '/' ? 'dashboard' : p.slice(1).replace(/\//g, '-'));
      }
      t.same(errors, [], 'no console errors');
      await context.close();
    });

    await t.test('dashboard numbers are the API numbers, and follow live events', async (t) => {
      const { page, errors, context } = await b.open();
      await login(page, stub.url, ADMIN_TOKEN);
      const s = stub.stats();
      const val = (id: string) => page.getByTestId(id).getAttribute('data-value');
      t.equal(Number(await val('stat-hashrate')), s.hashrateGhs);
      t.equal(Number(await val('stat-power')), s.powerW);
      t.equal(Number(await val('stat-efficiency')), s.efficiencyJth);
      t.equal(Number(await val('stat-online')), s.online);
      t.equal(Number(await val('stat-offline')), s.offline);
      t.match(await page.getByTestId('stat-hashrate').textContent(), /^7\.48 TH\/s$/, 'scaled to TH/s');
      t.match(await page.getByTestId('cost-today').textContent(), /71\.4 p/, "today's cost from the cost's days");
      t.match(await page.getByTestId('price-now').textContent(), /p\/kWh/, 'the price now');
      // live: a miner comes back and the collector says so; the page re-reads without a reload
      await page.waitForFunction(() => document.querySelector('[data-testid=live]')?.textContent?.includes('live'));
      const nm = stub.miners.find((m) => m.id === 'nm-1')!;
      nm.status = 'online';
      nm.last = { ...stub.miners[0].last!, device: 'nm-1', hashrateGhs: 0.001, powerW: 1 };
      stub.event({
        minerId: 'nm-1',
        kind: 'online',
        level: 'info',
        message: 'nm-1 answers again (live test)',
        actor: 'collector',
        data: null,
      });
      await page.waitForFunction(
        (n) => document.querySelector('[data-testid=stat-online]')?.getAttribute('data-value') === String(n),
        stub.stats().online,
      );
      await page.getByText('nm-1 answers again (live test)').waitFor();
      t.pass('numbers and events updated from the event stream');
      await b.shot(page, 'dashboard-live');
      nm.status = 'offline';
      nm.last = null;
      t.same(errors, []);
      await context.close();
    });

    await t.test('miner page: charts drawn, mode change reaches the simulator, refusal text shown', async (t) => {
      const { page, errors, context } = await b.open();
      await login(page, stub.url, ADMIN_TOKEN);
      await visit(page, '/miners/bitaxe-1', READY['/miners/bitaxe-1']);
      const drawn = Number(await page.getByTestId('chart-hashrate').getAttribute('data-drawn'));
      t.ok(drawn > 50, `the hashrate chart drew ${drawn} points`);
      t.ok(await page.locator('[data-testid=chart-hashrate] canvas').count(), 'on a canvas');
      // the 24 h range reads the history again
      await page.getByRole('button', { name: '24h' }).click();
      await page.waitForFunction(
        () =>
          document.querySelector('.charts')?.textContent?.includes('hour resolution') ||
          document.querySelector('.charts')?.textContent?.includes('minute resolution'),
      );
      t.ok(
        stub.calls.some((c) => c.url.startsWith('/api/miners/bitaxe-1/history?from=')),
        'history asked with from/to',
      );

      const info = async () =>
        (await (await fetch(`${simUrl}/api/system/info`)).json()) as {
          frequency: number;
          coreVoltage: number;
          ASICModel: AsicModel;
        };
      const before = await info();
      const eco = modeSetting('eco', before.ASICModel);
      t.not(before.frequency, eco.frequency, 'the simulator is not in eco yet');
      await page.getByTestId('mode-select').selectOption('eco');
      await page.getByTestId('set-mode').click();
      await page.getByTestId('current-mode').filter({ hasText: 'eco' }).waitFor();
      const after = await info();
      t.match(
        after,
        { frequency: eco.frequency, coreVoltage: eco.coreVoltage },
        'the simulator runs the eco frequency and voltage',
      );
      t.match(
        stub.calls.find((c) => c.method === 'POST' && c.url === '/api/miners/bitaxe-1/mode'),
        { body: { mode: 'eco' }, who: 'admin' },
      );
      await b.shot(page, 'miner-after-mode');

      // An NMMiner has no modes: its actions come without a mode selector.
      await visit(page, '/miners/nm-1', '[data-testid=miner-actions]');
      await page.getByTestId('restart').waitFor();
      t.equal(await page.getByTestId('mode-select').count(), 0, 'no mode selector for a driver without modes');

      // an action the API refuses shows the API's own text
      await visit(page, '/miners/nm-1', '[data-testid=restart]');
      page.once('dialog', (d) => void d.accept());
      await page.getByTestId('restart').click();
      await page
        .getByRole('alert')
        .filter({ hasText: 'nm-1 is offline: cannot restart it now — wait until it answers again' })
        .waitFor();
      t.pass('the refusal is shown');
      await b.shot(page, 'miner-refused');
      t.same(
        errors.filter((e) => !/409/.test(e)),
        [],
        'no console errors but the refused request',
      );
      await context.close();
    });

    await t.test('the rule builder: types from the API, a dry-run of the rule being built', async (t) => {
      const { page, errors, context } = await b.open();
      await login(page, stub.url, ADMIN_TOKEN);
      await visit(page, '/automation', '[data-testid=rule-builder]');
      const form = page.getByTestId('rule-builder');
      await form.getByLabel('Name', { exact: true }).fill('cheap turbo');
      await form.getByLabel('Trigger', { exact: true }).selectOption('cheapest_slots');
      t.same(
        JSON.parse(await form.getByLabel('Trigger parameters (JSON)').inputValue()),
        { count: 1 },
        "a template from the type's parameters",
      );
      await form.getByLabel('Trigger parameters (JSON)').fill('{"count": 4}');
      await form.getByLabel('Miners, tags or models').fill('bitaxe-1, tag:home');
      await form.getByLabel('Time window').fill('00:00-06:00');
      await form.getByLabel('Action', { exact: true }).selectOption('set_mode');
      await form.getByLabel('Action parameters (JSON)').fill('{"mode": "turbo"}');
      await form.getByLabel('undo the action when the trigger ends').check();
      await form.getByRole('button', { name: 'Dry-run' }).click();
      await page.getByTestId('dry-run').waitFor();
      t.match(
        stub.calls.find((c) => c.url === '/api/automation/dry-run'),
        {
          method: 'POST',
          body: {
            name: 'cheap turbo',
            trigger: { type: 'cheapest_slots', count: 4 },
            conditions: { miners: ['bitaxe-1'], tags: ['home'], window: { from: '00:00', to: '06:00' } },
            action: { type: 'set_mode', mode: 'turbo' },
            until: true,
            cooldownMs: 900_000,
          },
        },
      );
      await b.shot(page, 'automation-dry-run');
      t.same(errors, []);
      await context.close();
    });

    await t.test('a read-only token sees no action buttons', async (t) => {
      const { page, errors, context } = await b.open();
      await login(page, stub.url, VIEWER_TOKEN);
      t.match(await page.getByTestId('who').textContent(), /viewer.*read-only/);
      for (const p of PAGES) {
        await visit(page, p, READY[p]);
        t.equal(await page.locator('[data-action]').count(), 0, `no action on ${p}`);
      }
      t.equal(await page.getByTestId('mode-select').count(), 0, 'no mode selector');
      await b.shot(page, 'settings-read-only');
      t.same(errors, []);
      await context.close();
    });

    await t.test('phone width, dark theme: the menu opens from the keyboard', async (t) => {
      const { page, errors, context } = await b.open({ width: 390, height: 844, colorScheme: 'dark' });
      await login(page, stub.url, ADMIN_TOKEN);
      t.notOk(await page.locator('#nav').isVisible(), 'navigation folded away');
      await page.getByRole('button', { name: 'Menu' }).focus();
      await page.keyboard.press('Enter');
      const link = page.getByRole('link', { name: 'Miners', exact: true });
      await link.waitFor({ state: 'visible' });
      await link.focus();
      await page.keyboard.press('Enter');
      await page.getByTestId('miners').waitFor();
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      t.equal(bg, 'rgb(15, 18, 22)', 'dark background');
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      t.equal(overflow, 0, 'no sideways scrolling');
      await b.shot(page, 'phone-dark-miners');
      t.same(errors, []);
      await context.close();
    });
  },
);
