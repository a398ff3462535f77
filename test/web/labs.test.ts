// The web UI's lab pages over two factories: a real `mvm fleet` with [lab.a] and [lab.b], two real
// `mvm factory` on one job server (test/factory/multi-lab.ts), in Debian's headless Chromium. The
// testbeds page lists both labs with a LAB column, names a repeated testbed NAME@LAB, filters by
// lab, reserves on the right factory, opens a testbed of either lab; with one factory stopped, that
// lab shows as unreachable and the other's testbeds stay. Screenshots in test-output/web/labs/.
import t from 'tap';
import { existsSync } from 'node:fs';
import { CHROMIUM, launchBrowser, login, visit } from '../helpers/browser.js';
import { waitFor } from '../helpers/mvm-process.js';
import { factoryApi, type LabApi } from '../factory/fixture.js';
import { startMultiLab } from '../factory/multi-lab.js';
import { startFleet } from '../fleet/daemon-helpers.js';

t.test(
  'the testbeds of two labs on one page; a lab that is down does not hide the other',
  { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium` },
  async (t) => {
    const multi = await startMultiLab(t, {
      hosts: {
        a: [{ name: 'gamma-1', targets: ['bitaxe'] }],
        b: [
          { name: 'gamma-1', targets: ['bitaxe'] },
          { name: 'solo', targets: ['bitaxe'] },
        ],
      },
    });
    const procA = await multi.hosts.get('a')!.start();
    const procB = await multi.hosts.get('b')!.start();
    const apiA = await factoryApi(procA, multi.hosts.get('a')!.dbFile);
    const apiB = await factoryApi(procB, multi.hosts.get('b')!.dbFile);
    const token = async (api: LabApi) => (await api.call('POST', '/v1/users', { body: { name: 'fleet' } })).body.token;
    const fleet = await startFleet(
      t,
      [
        '[fleet]',
        'poll_interval = "1s"',
        'udp_port = 0',
        '',
        '[lab.a]',
        `url = "${apiA.url}"`,
        `token = "${await token(apiA)}"`,
        '',
        '[lab.b]',
        `url = "${apiB.url}"`,
        `token = "${await token(apiB)}"`,
        '',
      ].join('\n'),
    );
    const b = await launchBrowser(t, 'labs');
    const { page, errors } = await b.open();
    await login(page, fleet.url, fleet.adminToken);

    await visit(page, '/testbeds', '[data-testbed="gamma-1@b"]');
    await b.shot(page, 'testbeds-two-labs');
    t.equal(await page.getByTestId('lab-gamma-1@a').textContent(), 'a', 'the LAB column');
    t.equal(await page.getByTestId('lab-solo').textContent(), 'b');
    t.equal(await page.locator('tr[data-testbed]').count(), 3, 'both labs’ testbeds');
    await page.getByTestId('lab-filter').selectOption('b');
    await page.locator('tr[data-testbed]').nth(1).waitFor();
    await waitFor(async () => (await page.locator('tr[data-testbed="gamma-1@a"]').count()) === 0, 'lab a filtered out');
    t.equal(await page.locator('tr[data-testbed]').count(), 2, 'only lab b');
    await page.getByTestId('lab-filter').selectOption('');
    await page.locator('tr[data-testbed="gamma-1@a"]').waitFor();

    // a reservation from the page goes to lab b's factory, and only there
    const row = page.locator('[data-testbed="gamma-1@b"]');
    await row.getByLabel('Reason for gamma-1@b').fill('from the web, lab b');
    await page.getByTestId('reserve-btn-gamma-1@b').click();
    await page.getByTestId('holder-gamma-1@b').filter({ hasText: 'reservation' }).waitFor();
    t.match((await apiB.call('GET', '/v1/testbeds/gamma-1')).body.lock, {
      kind: 'reservation',
      reason: 'from the web, lab b',
    });
    t.equal((await apiA.call('GET', '/v1/testbeds/gamma-1')).body.lock, null, 'lab a’s gamma-1 untouched');
    t.equal(await page.getByTestId('holder-gamma-1@a').textContent(), '—');

    // a testbed's own page, for a repeated name and for a plain one
    await page.locator('a[href="/testbeds/gamma-1%40b"]').click();
    await page.getByRole('heading', { name: 'gamma-1@b' }).waitFor();
    await page.getByText(/Held by: reservation · fleet/).waitFor();
    await page.getByRole('button', { name: 'Release' }).click();
    await page.getByText('Held by: nobody').waitFor();
    t.equal((await apiB.call('GET', '/v1/testbeds/gamma-1')).body.lock, null, 'released from the testbed page');
    await visit(page, '/testbeds/solo', 'h1');
    await page.getByText('Lab b').waitFor();

    // lab a stops: said on the testbeds page and the dashboard; lab b's testbeds stay
    await procA.stop(10_000);
    await visit(page, '/testbeds', '[data-testbed="gamma-1@b"]');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('[data-testid=labs-unreachable] [data-lab=a]').waitFor();
    t.match(await page.getByTestId('labs-unreachable').textContent(), /Lab a \(http:\S+\) is unreachable/);
    t.equal(await page.locator('tr[data-testbed]').count(), 2, 'lab b’s testbeds still listed');
    t.equal(await page.locator('tr[data-lab=a]').count(), 0);
    await b.shot(page, 'testbeds-lab-down');
    await visit(page, '/', '[data-testid=testbeds-by-state] dd');
    await page.locator('[data-testid=labs-unreachable] [data-lab=a]').waitFor();
    await b.shot(page, 'dashboard-lab-down');
    t.same(
      errors.filter((e) => !/Failed to load resource/.test(e)),
      [],
      'no console error',
    );
  },
);
