// `mvm runner flash`: check the image against the device before touching it, then let the driver
// upload, wait for the reboot, verify and (on failure) recover.
import { readFileSync } from 'node:fs';
import { MvmError } from '../shared/errors.js';
import { DriverError } from './drivers/errors.js';
import type { DeviceSpec, Driver, FlashOptions, FlashResult, ProgressEvent } from './drivers/types.js';
import { checkImageFor, type AppDescriptor } from './firmware/image.js';

/** The project name images for a device must carry: the device option, or the driver's family. */
export function expectedProject(device: DeviceSpec): string | undefined {
  const o = device.options ?? {};
  if (typeof o.image_project === 'string') return o.image_project;
  if (device.driver === 'axeos') return 'esp-miner';
  return undefined;
}

export function readImage(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new MvmError('IO', `cannot read the image ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: 'give the path of the firmware image (the esp-miner.bin app image, not the merged factory image)',
      cause: err,
    });
  }
}

/** Throws DriverError('image_rejected') when the image is wrong for the device; nothing is sent. */
export function validateImage(device: DeviceSpec, image: Buffer, file: string): AppDescriptor | undefined {
  const project = expectedProject(device);
  if (project === undefined) return undefined; // the external tool decides what it accepts
  const verdict = checkImageFor(image, { projectName: project, family: `${device.name} (${device.driver})` });
  if (!verdict.ok) {
    throw new DriverError(device.name, 'image_rejected', `refusing to flash ${file}: ${verdict.reason}`);
  }
  return verdict.descriptor;
}

export interface FlashRequest {
  driver: Driver;
  imageFile: string;
  onProgress?: (e: ProgressEvent) => void;
  signal?: AbortSignal;
  timing?: Pick<FlashOptions, 'pollIntervalMs' | 'rebootTimeoutMs' | 'maxUptimeS' | 'settleMs'>;
}

export interface FlashReport extends FlashResult {
  device: string;
  image: string;
  project: string | null;
}

export async function flashDevice(req: FlashRequest): Promise<FlashReport> {
  const { driver } = req;
  const device = driver.device;
  if (!driver.capabilities.has('flash')) {
    // Ask the driver anyway: its error says what to do instead (serial flashing, vendor tool).
    await driver.flash(Buffer.alloc(0), { expectedVersion: '' });
  }
  const image = readImage(req.imageFile);
  const descriptor = validateImage(device, image, req.imageFile);
  req.onProgress?.({
    phase: 'validate',
    message: descriptor
      ? `image ${descriptor.projectName} ${descriptor.version} (${image.length} bytes, IDF ${descriptor.idfVersion}) fits ${device.driver}`
      : `image of ${image.length} bytes handed to the device's tool unchecked`,
  });
  const result = await driver.flash(image, {
    expectedVersion: descriptor?.version ?? '',
    onProgress: req.onProgress,
    signal: req.signal,
    ...req.timing,
  });
  return { ...result, device: device.name, image: req.imageFile, project: descriptor?.projectName ?? null };
}
