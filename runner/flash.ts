// `mvm runner flash`: check the image against the device before touching it, then let the driver
// upload, wait for the reboot, verify and (on failure) recover.
import { readFileSync } from 'node:fs';
import { MvmError } from '../shared/errors.js';
import { DriverError } from './drivers/errors.js';
import type { DeviceSpec, Driver, FlashOptions, FlashResult, ProgressEvent } from './drivers/types.js';
import { identifyImage, sameBoard } from './firmware/identity.js';
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
    throw new MvmError(
      'IO',
      `cannot read the image ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        hint: 'give the path of the firmware image (the esp-miner.bin app image, not the merged factory image)',
        cause: err,
      },
    );
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

/**
 * Throws DriverError('image_rejected') when the image is for another family or board than the
 * device (read from the device), or its family is unknown and `force` is not set. Nothing is sent.
 */
export async function checkImageFamily(
  driver: Driver,
  file: string,
  force: boolean,
  signal?: AbortSignal,
): Promise<string> {
  const info = await driver.info({ signal });
  if (!info.imageFamily) return 'the device names no image family';
  const name = driver.device.name;
  const image = identifyImage(file);
  if (!image) {
    if (force) return `image family unknown, flashed as ${info.imageFamily} because --force-family was given`;
    throw new DriverError(
      name,
      'image_rejected',
      `refusing to flash ${file}: its family is unknown (the app descriptor of every ESP-Miner and NerdQAxe++ build says "esp-miner"), and ${name} is a ${info.model} (${info.imageFamily})`,
      {
        hint: `state it beside the image in ${file}.json ({"family": "${info.imageFamily}"${info.hardware ? `, "board": "${info.hardware}"` : ''}}), name it as the release asset is named, or pass --force-family if you are sure`,
      },
    );
  }
  if (image.family !== info.imageFamily) {
    throw new DriverError(
      name,
      'image_rejected',
      `refusing to flash ${file}: it is a ${image.family} image (from its ${image.source}), but ${name} is a ${info.model} (${info.imageFamily})`,
      {
        hint: `use a ${info.imageFamily} image`,
      },
    );
  }
  if (image.board && info.hardware && !sameBoard(image.board, info.hardware)) {
    throw new DriverError(
      name,
      'image_rejected',
      `refusing to flash ${file}: it is built for board ${image.board} (from its ${image.source}), but ${name} is board ${info.hardware}`,
      {
        hint: `use the image of board ${info.hardware}, or the board-generic OTA image`,
      },
    );
  }
  return `${image.family}${image.board ? ` board ${image.board}` : ''} image (from its ${image.source})`;
}

export interface FlashRequest {
  driver: Driver;
  imageFile: string;
  /** Flash an image whose family is unknown (a mismatch is refused all the same). */
  forceFamily?: boolean;
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
  const family = descriptor
    ? await checkImageFamily(driver, req.imageFile, req.forceFamily ?? false, req.signal)
    : undefined;
  req.onProgress?.({
    phase: 'validate',
    message: descriptor
      ? `image ${descriptor.projectName} ${descriptor.version} (${image.length} bytes, IDF ${descriptor.idfVersion}; ${family}) fits ${device.driver}`
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
