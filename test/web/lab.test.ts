// The web UI's lab pages on the real stack: `mvm demo` (job server, simulated lab, factory) and a
// real `mvm fleet` whose [lab] and [jobs] point at them, in Debian's headless Chromium. A
// reservation made on the testbeds page shows in `mvm testbeds list`; a job's page shows its log
// lines as the job prints them; the lab pages load with no console error. One browser for the
// file; screenshots in test-output/web/lab/.
import t from 'tap';
import TOML from '@iarna/toml';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAxeosSim } from '../../sim/index.js';
import { CHROMIUM, launchBrowser, login, visit } from '../helpers/browser.js';
import { runMvm, startMvm, waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { startFleet } from '../fleet/daemon-helpers.js';

interface Profile {
  url: string;
  token: string;
  admin_token: string;
  lab_url: string;
  lab_token: string;
}

t.test(
  'lab pages through a real fleet daemon, factory and job server',
  { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium` },
  async (t) => {
    const dir = tempDir(t, 'mvm-web-lab-');
    const demo = startMvm(['demo', '--data', dir, '--listen', '127.0.0.1:0', '--free-ports', '--no-sample'], {
      env: { MVM_LOG_LEVEL: 'warn' },
    });
    t.teardown(() => demo.stop(20_000));
    await demo.waitForLine(/^mvm demo: ready/, 180_000);
    const profile = TOML.parse(readFileSync(join(dir, 'profile.toml'), 'utf8')) as unknown as Profile;
    const lab = async <T>(path: string): Promise<T> =>
      (await (
        await fetch(profile.lab_url + path, { headers: { authorization: `Bearer ${profile.lab_token}` } })
      ).json()) as T;
    await waitFor(
      async () => (await lab<{ health: string; free: boolean }>('/v1/testbeds/bitaxe-supra')).health === 'good',
      'bitaxe-supra healthy',
      120_000,
    );

    // the fleet's [jobs] token: a job server user with the admin privilege (it sees every job)
    const asAdmin = { authorization: `Bearer ${profile.admin_token}`, 'content-type': 'application/json' };
    const made = (await (
      await fetch(profile.url + '/0/users', {
        method: 'POST',
        headers: asAdmin,
        body: JSON.stringify({ name: 'web-ui' }),
      })
    ).json()) as { id: string; token: string };
    t.equal(
      (
        await fetch(`${profile.url}/0/users/${made.id}/privilege/admin`, {
          method: 'PUT',
          headers: { authorization: asAdmin.authorization },
        })
      ).status,
      204,
    );

    const gamma = await startAxeosSim({ board: '601', seed: 'web-lab' });
    t.teardown(() => gamma.close());
    const fleet = await startFleet(
      t,
      [
        '[fleet]',
        'poll_interval = "1s"',
        'udp_port = 0',
        'udp_address = "127.0.0.1"',
        '',
        '[lab]',
        `url = "${profile.lab_url}"`,
        `token = "${profile.lab_token}"`,
        '',
        '[jobs]',
        `url = "${profile.url}"`,
        `token = "${made.token}"`,
        '',
        '[miner.home-bitaxe]',
        'driver = "axeos"',
        `address = "${gamma.url}"`,
        '',
      ].join('\n'),
    );
    const b = await launchBrowser(t, 'lab');
    const { page, errors } = await b.open();
    await login(page, fleet.url, fleet.adminToken);

    await t.test('a reservation from the testbeds page shows in mvm testbeds list', async (t) => {
      await visit(page, '/testbeds', '[data-testbed=bitaxe-supra]');
      await b.shot(page, 'testbeds');
      const row = page.locator('[data-testbed=bitaxe-supra]');
      await row.getByLabel('TTL for bitaxe-supra').fill('30m');
      await row.getByLabel('Reason for bitaxe-supra').fill('firmware bisect from the web');
      await page.getByTestId('reserve-btn-bitaxe-supra').click();
      await page.getByTestId('holder-bitaxe-supra').filter({ hasText: 'reservation' }).waitFor();
      const list = await runMvm(['testbeds', 'list'], {
        env: {
          MVM_LAB_URL: profile.lab_url,
          MVM_LAB_TOKEN: profile.lab_token,
          MVM_PROFILE: join(dir, 'none.toml'),
          MVM_LOG_LEVEL: 'warn',
        },
        timeoutMs: 60_000,
      });
      t.equal(list.code, 0, list.stderr);
      const line = list.stdout.split('\n').find((l) => l.includes('bitaxe-supra')) ?? '';
      t.match(line, /reserved/, `mvm testbeds list: ${line.trim()}`);
      const tb = await lab<{ lock: { kind: string; reason: string } }>('/v1/testbeds/bitaxe-supra');
      t.match(tb.lock, { kind: 'reservation', reason: 'firmware bisect from the web' });
      await b.shot(page, 'testbeds-reserved');
      // and released again from the page
      await row.getByRole('button', { name: 'Release' }).click();
      await page.getByTestId('holder-bitaxe-supra').filter({ hasText: '—' }).waitFor();
      t.equal((await lab<{ lock: unknown }>('/v1/testbeds/bitaxe-supra')).lock, null, 'released');
    });

    await t.test("a job's page shows its log lines as they arrive", async (t) => {
      const res = await fetch(profile.url + '/0/jobs', {
        method: 'POST',
        headers: { authorization: `Bearer ${profile.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'web log follow',
          target: 'bitaxe',
          output_rules: [],
          inputs: [],
          tags: {},
          // a line a second: the page must show the first before the job prints the last
          tasks: [
            {
              name: 'main',
              script: 'for i in 1 2 3 4 5; do echo "web line $i"; sleep 1; done',
              env_clear: false,
              env: {},
            },
          ],
        }),
      });
      t.equal(res.status, 201);
      const { id } = (await res.json()) as { id: string };
      await visit(page, '/jobs', `[data-job="${id}"]`);
      // The job list carries no times; the page reads the submit time from the job's id.
      t.match(await page.locator(`[data-job="${id}"] td`).last().textContent(), /^\d+s ago$/, 'submitted: an age');
      await b.shot(page, 'jobs');
      await visit(page, `/jobs/${id}`, '[data-testid=job-log]');
      const log = page.getByTestId('job-log');
      await log.getByText('web line 1').waitFor({ timeout: 120_000 });
      const early = await log.textContent();
      await log.getByText('web line 5').waitFor({ timeout: 60_000 });
      t.notMatch(early, /web line 5/, 'the first line showed before the last was printed');
      t.pass('lines appeared one after another without a reload');
      await page.getByRole('heading', { name: 'Log', exact: true }).waitFor({ timeout: 60_000 });
      await b.shot(page, 'job');
    });

    await t.test('dashboard shows the lab; no console error on the lab pages', async (t) => {
      await visit(page, '/', '[data-testid=testbeds-by-health] dd');
      const good = await page.locator('[data-testid=testbeds-by-health] dd[data-key=good]').textContent();
      const all = await lab<Array<{ health: string }>>('/v1/testbeds');
      t.ok(Number(good) >= 1 && Number(good) <= all.length, `${good} testbeds good`);
      await b.shot(page, 'dashboard');
      t.same(errors, [], 'no console errors');
    });

    await t.test("a [jobs] token without the admin privilege: its user's own jobs, said so", async (t) => {
      // The demo's fleet has such a token: the dashboard and the jobs page fall back alike.
      const own = await startFleet(
        t,
        [
          '[jobs]',
          `url = "${profile.url}"`,
          `token = "${profile.token}"`,
          '',
          '[miner.home-bitaxe]',
          'driver = "axeos"',
          `address = "${gamma.url}"`,
          '',
        ].join('\n'),
      );
      const p2 = await b.open();
      await login(p2.page, own.url, own.adminToken);
      await visit(p2.page, '/', '[data-testid=own-jobs-only]');
      t.match(await p2.page.getByTestId('job-counts').textContent(), /Queued/, 'the counts, not the refusal');
      await visit(p2.page, '/jobs', '[data-testid=own-jobs-only]');
      await p2.page.locator('[data-job]').first().waitFor();
      // The one refusal that taught the page to ask for the user's own jobs (remembered after).
      t.same(
        p2.errors,
        ['console: Failed to load resource: the server responded with a status of 403 (Forbidden)'],
        'no console error but the one refused admin list',
      );
    });
  },
);
