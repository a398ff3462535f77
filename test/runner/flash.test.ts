// Flashing an AxeOS device end to end against the simulator: a valid image flashed and verified;
// invalid images refused before anything is uploaded; a failing flash, a bricking image and a
// reboot loop detected, recovered (boot partition, or the serial recovery command) or reported as
// needing attention — each within a bounded time.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAxeosSim, type AxeosSim, type AxeosSimOptions } from '../../sim/axeos/index.js';
import { AxeosDriver } from '../../runner/drivers/axeos/driver.js';
import { DriverError } from '../../runner/drivers/errors.js';
import type { ProgressEvent } from '../../runner/drivers/types.js';
import { buildImage } from '../../runner/firmware/image.js';
import { flashDevice } from '../../runner/flash.js';
import { tempDir } from '../helpers/tmp.js';
import { mvmBin } from '../helpers/mvm-process.js';

const TIMING = { pollIntervalMs: 100, rebootTimeoutMs: 8000, settleMs: 1200, maxUptimeS: 30 };

async function sim(t: Test, opts: AxeosSimOptions = {}): Promise<AxeosSim> {
  const s = await startAxeosSim({ rebootDelayMs: 50, bootMs: 300, board: '601', ...opts });
  t.teardown(() => s.close());
  return s;
}

function setup(t: Test, s: AxeosSim, options: Record<string, unknown> = {}) {
  const driver = new AxeosDriver({
    name: 'gamma',
    driver: 'axeos',
    address: s.url,
    options: { request_timeout_ms: 2000, ...options },
  });
  let uploads = 0;
  const ota = driver.client.ota.bind(driver.client);
  driver.client.ota = (image, opts) => {
    uploads++;
    return ota(image, opts);
  };
  const dir = tempDir(t);
  // Images named as ESP-Miner's release assets are, so their family (Bitaxe) is known.
  const write = (name: string, buf: Buffer) => {
    const f = join(dir, `esp-miner-${name}`);
    writeFileSync(f, buf);
    return f;
  };
  return { driver, uploads: () => uploads, write, dir };
}

async function failure(t: Test, p: Promise<unknown>, reason: DriverError['reason']): Promise<DriverError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, DriverError, `fails with a DriverError (${(err as Error)?.message})`);
  t.equal((err as DriverError).reason, reason);
  return err as DriverError;
}

t.test('a valid image is uploaded, the reboot awaited and the new version verified', async (t) => {
  const s = await sim(t);
  const { driver, uploads, write } = setup(t, s);
  const file = write('good.bin', buildImage({ version: 'v2.16.0', size: 200_000 }));
  const events: ProgressEvent[] = [];
  const started = Date.now();
  const r = await flashDevice({ driver, imageFile: file, onProgress: (e) => events.push(e), timing: TIMING });
  t.equal(r.version, 'v2.16.0');
  t.equal(r.previousVersion, 'v2.15.0');
  t.equal(r.partition, 'ota_0');
  t.equal(r.previousPartition, 'factory');
  t.equal(r.project, 'esp-miner');
  t.equal(uploads(), 1);
  t.equal(s.device.version, 'v2.16.0');
  const uploadEvents = events.filter((e) => e.phase === 'upload') as Array<{ sent: number; total: number }>;
  t.ok(uploadEvents.length > 3, 'upload progress reported in steps');
  t.equal(uploadEvents[uploadEvents.length - 1].sent, 200_000);
  t.same([...new Set(events.map((e) => e.phase))], ['validate', 'upload', 'reboot', 'verify', 'done']);
  t.ok(Date.now() - started < 15_000);

  // And again: the OTA goes to the other slot.
  const second = await flashDevice({
    driver,
    imageFile: write('good2.bin', buildImage({ version: 'v2.16.1' })),
    timing: TIMING,
  });
  t.equal(second.partition, 'ota_1');
  t.equal(second.previousPartition, 'ota_0');
});

t.test('invalid images are refused before anything is uploaded', async (t) => {
  const s = await sim(t);
  const { driver, uploads, write } = setup(t, s);
  const notEsp = Buffer.from(buildImage({ version: 'v2.16.0' }));
  notEsp[0] = 0x7f;
  const noDesc = Buffer.from(buildImage({ version: 'v2.16.0' }));
  noDesc.writeUInt32LE(0, 0x20);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['elf.bin', notEsp, /first byte is 0x7f, expected 0xe9/],
    ['merged.bin', noDesc, /no app descriptor/],
    ['other.bin', buildImage({ version: 'v1.0.0', projectName: 'nmminer' }), /project "nmminer".*runs "esp-miner"/],
    ['empty.bin', Buffer.alloc(0), /empty/],
  ];
  for (const [name, buf, re] of cases) {
    const err = await failure(
      t,
      flashDevice({ driver, imageFile: write(name, buf), timing: TIMING }),
      'image_rejected',
    );
    t.match(err.message, re, name);
    t.match(err.hint, /nothing was sent/);
  }
  await t.rejects(flashDevice({ driver, imageFile: '/nonexistent/image.bin', timing: TIMING }), {
    code: 'IO',
    message: /ENOENT/,
  });
  t.equal(uploads(), 0, 'the device saw no upload');
  t.equal(s.device.partitions.ota_0, null);
  t.equal(s.device.bootCount, 0);
});

t.test('the firmware refusing an image (flash-fail) is a refusal; the device keeps its firmware', async (t) => {
  const s = await sim(t, { faults: ['flash-fail'] });
  const { driver, write } = setup(t, s);
  const err = await failure(
    t,
    flashDevice({ driver, imageFile: write('good.bin', buildImage({ version: 'v2.16.0' })), timing: TIMING }),
    'refused',
  );
  t.match(err.message, /rejected the image.*Validation/);
  t.equal(s.device.version, 'v2.15.0');
});

t.test('a bricking image without a recovery path: needs attention', async (t) => {
  const s = await sim(t);
  const { driver, write } = setup(t, s);
  const started = Date.now();
  const err = await failure(
    t,
    flashDevice({
      driver,
      imageFile: write('brick.bin', buildImage({ version: 'v2.16.0-brick' })),
      timing: { ...TIMING, rebootTimeoutMs: 2000 },
    }),
    'needs_attention',
  );
  t.match(err.message, /did not answer.*no recovery path/s);
  t.match(err.hint, /reflash it over serial/);
  t.equal(s.device.power, 'dark');
  t.ok(Date.now() - started < 15_000, `bounded (${Date.now() - started} ms)`);
});

t.test('a bricking image recovered by the serial recovery command', async (t) => {
  const s = await sim(t);
  const dir = tempDir(t);
  const good = join(dir, 'factory-good.bin');
  writeFileSync(good, buildImage({ version: 'v2.15.0' }));
  const { driver, write } = setup(t, s, {
    recovery_argv: [process.execPath, mvmBin(), 'sim', 'serial-flash', '--address', '{address}', '--image', good],
    recovery_timeout_ms: 30_000,
  });
  const events: ProgressEvent[] = [];
  const err = await failure(
    t,
    flashDevice({
      driver,
      imageFile: write('brick.bin', buildImage({ version: 'v2.16.0-brick' })),
      onProgress: (e) => events.push(e),
      timing: { ...TIMING, rebootTimeoutMs: 2000 },
    }),
    'verify_failed',
  );
  t.match(err.message, /recovered by recovery command/);
  t.equal(err.details.recovered, true);
  t.ok(events.some((e) => e.phase === 'recover'));
  t.equal(s.device.power, 'up');
  t.equal(s.device.version, 'v2.15.0');
});

t.test('a failing recovery command: needs attention, with what was tried', async (t) => {
  const s = await sim(t);
  const { driver, write } = setup(t, s, {
    recovery_argv: [process.execPath, '-e', 'console.error("esptool: no serial port"); process.exit(2)'],
  });
  const err = await failure(
    t,
    flashDevice({
      driver,
      imageFile: write('brick.bin', buildImage({ version: 'v2.16.0-brick' })),
      timing: { ...TIMING, rebootTimeoutMs: 1500 },
    }),
    'needs_attention',
  );
  t.match(err.message, /recovery command exit 2: esptool: no serial port/);
});

t.test('a reboot loop after the update is caught and the previous partition booted back (v2.15)', async (t) => {
  const s = await sim(t);
  const { driver, write } = setup(t, s);
  const err = await failure(
    t,
    flashDevice({
      driver,
      imageFile: write('loop.bin', buildImage({ version: 'v2.16.0' })),
      // The new image crashes a moment after each boot: arm the fault once the upload is in.
      onProgress: (e) => {
        if (e.phase === 'reboot') s.device.setFault('reboot-loop', 700);
      },
      timing: { ...TIMING, settleMs: 2000 },
    }),
    'verify_failed',
  );
  t.match(err.message, /reboot|stopped answering/);
  t.match(err.message, /recovered by boot partition/);
  t.equal(s.device.running, 'factory');
});
