// Bring a device to a firmware version: read what it runs; when that differs (normalised), take the
// given image (which must carry that version) or the library's image, and flash it through the one
// flash path (validate → upload → reboot → verify → recover). Restore and test preparation use it.
import { MvmError } from '../../shared/errors.js';
import { DriverError } from '../drivers/errors.js';
import type { Driver, ProgressEvent } from '../drivers/types.js';
import { expectedProject, flashDevice, readImage, type FlashRequest } from '../flash.js';
import { basename } from 'node:path';
import { sameSoftware } from '../../shared/software.js';
import { inspectImage } from './image.js';
import { findImage, requireFirmwareDir } from './library.js';

export interface EnsureFirmwareRequest {
  driver: Driver;
  /** What the device runs now (from its info; null when it does not say). */
  from: string | null;
  /** The version wanted, in any spelling normaliseSoftware accepts. */
  version: string;
  /** An image to use instead of the library's (it must carry `version`). */
  image?: string;
  /** The firmware library folder. */
  firmwareDir?: string;
  /** Says in errors why this version is wanted ("its baseline", "the test definition"). */
  purpose: string;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  timing?: FlashRequest['timing'];
}

export interface EnsureFirmwareResult {
  /** What the device ran before (null when it does not say). */
  from: string | null;
  to: string;
  flashed: boolean;
  /** The image flashed, when one was. */
  image?: string;
  message: string;
}

export { sameSoftware };

/** The explicit image, checked to carry the version; else the library's image for the device's project. */
async function imageFor(req: EnsureFirmwareRequest): Promise<string> {
  const device = req.driver.device;
  if (req.image !== undefined) {
    const check = inspectImage(readImage(req.image));
    if (!check.ok)
      throw new MvmError('CONFIG_INVALID', `${device.name}: the image ${req.image} is not usable: ${check.reason}`, {
        hint: 'give the app image (the OTA .bin)',
      });
    if (!sameSoftware(check.descriptor.version, req.version)) {
      throw new MvmError(
        'CONFIG_INVALID',
        `${device.name}: the image ${req.image} carries ${check.descriptor.projectName} ${check.descriptor.version}, but ${req.purpose} asks for ${req.version}`,
        {
          hint: 'give the image of the version asked for, or change the version to the one the image carries',
        },
      );
    }
    return req.image;
  }
  const project = expectedProject(device);
  if (project === undefined) {
    throw new MvmError(
      'CONFIG_INVALID',
      `${device.name}: cannot pick a ${device.driver} image from the firmware library: its image project is unknown`,
      {
        hint: 'set the device option image_project (the project name its images carry), or give the image explicitly',
      },
    );
  }
  const dir = requireFirmwareDir(req.firmwareDir, `${device.name} must be flashed to ${req.version} (${req.purpose})`);
  const info = await req.driver.info({ signal: req.signal });
  return findImage(dir, { project, version: req.version, family: info.imageFamily, board: info.hardware });
}

export async function ensureFirmware(req: EnsureFirmwareRequest): Promise<EnsureFirmwareResult> {
  const { driver, from } = req;
  if (from !== null && sameSoftware(from, req.version))
    return { from, to: from, flashed: false, message: `already at ${from}` };
  if (!driver.capabilities.has('flash')) {
    throw new DriverError(
      driver.device.name,
      'unsupported',
      `runs ${from ?? 'an unknown version'}, not ${req.version} (${req.purpose}), and the ${driver.kind} driver cannot flash it`,
      {
        hint: `a person must update ${driver.device.name} to ${req.version} (serial or the vendor's tool), or change the version asked for`,
      },
    );
  }
  const image = await imageFor(req);
  const report = await flashDevice({
    driver,
    imageFile: image,
    onProgress: req.onProgress,
    signal: req.signal,
    timing: req.timing,
  });
  return {
    from,
    to: report.version,
    flashed: true,
    image,
    // The file name only: the folder is the agent's (a job's inputs, the firmware library); `image` has it all.
    message: `flashed ${report.version} (was ${from ?? 'unknown'}) from ${basename(image)}`,
  };
}
