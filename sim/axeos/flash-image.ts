// What the device's flash code makes of an uploaded image: the checks of esp_ota_write (first
// byte 0xE9) and esp_ota_end (a valid app image), and what esptool at 0x0 writes (a merged
// factory image with its app at 0x10000, or a bare app image).
import { inspectImage } from '../../runner/firmware/image.js';

export interface PartitionContent {
  version: string;
  projectName: string;
  date: string;
  time: string;
  size: number;
  /** The image does not boot: the device stays dark until a serial flash. */
  bricked: boolean;
}

export type OtaCheck = { ok: true; content: PartitionContent } | { ok: false; status: number; body: string };

/** POST /api/system/OTA's verdict on a body; `bricks` marks an image that will not boot. */
export function checkOtaImage(image: Buffer, opts: { failValidation: boolean; bricks: boolean }): OtaCheck {
  if (image.length > 0 && image[0] !== 0xe9) return { ok: false, status: 500, body: 'Write Error' };
  const check = inspectImage(image);
  if (!check.ok || opts.failValidation) return { ok: false, status: 500, body: 'Validation / Activation Error' };
  const d = check.descriptor;
  return {
    ok: true,
    content: {
      version: d.version,
      projectName: d.projectName,
      date: d.date,
      time: d.time,
      size: image.length,
      // Tests can build an image that bricks without a fault: its version says so.
      bricked: opts.bricks || /brick/i.test(d.version),
    },
  };
}

/** The app a serial flash installs in the factory partition, or why the image is refused. */
export function readFactoryImage(
  image: Buffer,
): { ok: true; content: PartitionContent } | { ok: false; reason: string } {
  let check = inspectImage(image);
  if (!check.ok && image.length > 0x10000) {
    const app = inspectImage(image.subarray(0x10000));
    if (app.ok) check = app;
  }
  if (!check.ok) return { ok: false, reason: check.reason };
  const d = check.descriptor;
  return {
    ok: true,
    content: {
      version: d.version,
      projectName: d.projectName,
      date: d.date,
      time: d.time,
      size: image.length,
      bricked: false,
    },
  };
}

/** What a device ships with in its factory partition. */
export function shippedFirmware(version: string): PartitionContent {
  return { version, projectName: 'esp-miner', date: 'Nov 23 2026', time: '12:00:00', size: 1_200_000, bricked: false };
}
