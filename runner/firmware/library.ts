// The lab's firmware library: a folder of ESP32 app images (*.bin), indexed by the project name and
// version in each image's app descriptor — never by file name, which people get wrong.
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MvmError } from '../../shared/errors.js';
import { normaliseSoftware } from '../device-tests/assign.js';
import { identifyImage, sameBoard, type ImageIdentity } from './identity.js';
import { inspectImage } from './image.js';

export interface LibraryImage {
  file: string;
  project: string;
  version: string;
  /** Family and board, from the statement beside the image or its asset name; absent when unknown. */
  identity?: ImageIdentity;
}

export interface LibraryIndex {
  dir: string;
  images: LibraryImage[];
  /** *.bin files that are not app images (a merged factory image, a bootloader), with why. */
  skipped: Array<{ file: string; reason: string }>;
}

/** The header and app descriptor sit in the first 0xb0 bytes; a little more costs nothing. */
const HEAD_BYTES = 4096;

function readHead(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    return buf.subarray(0, readSync(fd, buf, 0, HEAD_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}

export function indexLibrary(dir: string): LibraryIndex {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.toLowerCase().endsWith('.bin'))
      .sort();
  } catch (err) {
    throw new MvmError(
      'CONFIG_INVALID',
      `cannot read the firmware library ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        hint: "check --firmware-dir, the testbed description's firmware_dir, or MVM_FIRMWARE_DIR",
        cause: err,
      },
    );
  }
  const index: LibraryIndex = { dir, images: [], skipped: [] };
  for (const name of names) {
    const file = join(dir, name);
    let check: ReturnType<typeof inspectImage>;
    try {
      check = inspectImage(readHead(file));
    } catch (err) {
      index.skipped.push({
        file: name,
        reason: `unreadable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      });
      continue;
    }
    if (!check.ok) {
      index.skipped.push({ file: name, reason: check.reason });
      continue;
    }
    const image: LibraryImage = { file, project: check.descriptor.projectName, version: check.descriptor.version };
    try {
      const identity = identifyImage(file);
      if (identity) image.identity = identity;
    } catch (err) {
      index.skipped.push({ file: name, reason: (err as Error).message });
      continue;
    }
    index.images.push(image);
  }
  return index;
}

/** "esp-miner v2.9.0 (esp-miner-2.9.0.bin), …" for messages. */
export function describeLibrary(index: LibraryIndex): string {
  const images = index.images.map((i) => {
    const who = i.identity ? `${i.identity.family}${i.identity.board ? ` board ${i.identity.board}` : ''}, ` : '';
    return `${i.project} ${i.version} (${who}${i.file.slice(index.dir.length + 1)})`;
  });
  const parts = [images.length > 0 ? `it holds ${images.join(', ')}` : 'it holds no app images'];
  if (index.skipped.length > 0)
    parts.push(`skipped as not app images: ${index.skipped.map((s) => `${s.file} (${s.reason})`).join('; ')}`);
  return parts.join('; ');
}

export interface ImageWanted {
  /** The ESP-IDF project name, e.g. "esp-miner". */
  project: string;
  /** Any spelling normaliseSoftware accepts: "esp-miner-2.9.0", "v2.9.0", "2.9.0". */
  version: string;
  /** The device's image family and board (DeviceInfo): an image stated or named for them is preferred, one for another family or board is never picked. */
  family?: string;
  board?: string | null;
}

/** The path of the library's image for that project and version; a clear error when there is none. */
export function findImage(dir: string, want: ImageWanted): string {
  const index = indexLibrary(dir);
  const version = normaliseSoftware(want.version);
  const fits = (i: LibraryImage) =>
    !want.family ||
    !i.identity ||
    (i.identity.family === want.family &&
      (!i.identity.board || !want.board || sameBoard(i.identity.board, want.board)));
  const candidates = index.images.filter(
    (i) => i.project === want.project && normaliseSoftware(i.version) === version && fits(i),
  );
  // One known to be for this device before one whose family is unknown (flash refuses that unforced).
  const found = candidates.find((i) => i.identity) ?? candidates[0];
  if (found) return found.file;
  throw new MvmError(
    'NOT_FOUND',
    `no ${want.project} ${want.version} image in the firmware library ${dir}: ${describeLibrary(index)}`,
    {
      hint: `put the ${want.project} app image of ${want.version} (the OTA .bin, not the merged factory image) into ${dir}`,
    },
  );
}

export interface FirmwareDirSources {
  /** --firmware-dir */
  flag?: string;
  /** The testbed description's firmware_dir. */
  testbed?: string;
  env?: NodeJS.ProcessEnv;
}

/** Where the library is: --firmware-dir, else the testbed's firmware_dir, else $MVM_FIRMWARE_DIR. */
export function firmwareDirFrom(src: FirmwareDirSources): string | undefined {
  const dir = src.flag ?? src.testbed ?? (src.env ?? process.env).MVM_FIRMWARE_DIR;
  return dir ? resolve(dir) : undefined;
}

/** firmwareDirFrom, or an error that says how to name the library. */
export function requireFirmwareDir(dir: string | undefined, why: string): string {
  if (dir) return dir;
  throw new MvmError('CONFIG_INVALID', `${why}, but no firmware library is configured`, {
    hint: 'give --firmware-dir DIR, set firmware_dir in the testbed description, or set MVM_FIRMWARE_DIR',
  });
}
