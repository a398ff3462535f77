// ESP32 application images (what AxeOS OTA and esptool write): parse and validate one before it
// goes near a device, and build small valid or deliberately broken images for simulators and tests.
//
// Layout (ESP-IDF app image): byte 0 is the magic 0xE9; the image header is 24 bytes, the first
// segment header 8 more, so the app descriptor (esp_app_desc_t) starts at 0x20 with magic
// 0xABCD5432 (little-endian bytes 32 54 CD AB), version[32] at 0x30, project_name[32] at 0x50,
// time[16] at 0x70, date[16] at 0x80, idf_ver[32] at 0x90.

export const IMAGE_MAGIC = 0xe9;
export const APP_DESC_MAGIC = 0xabcd5432;
const APP_DESC_OFFSET = 0x20;
const MIN_LENGTH = 0xb0;

export interface AppDescriptor {
  version: string;
  projectName: string;
  time: string;
  date: string;
  idfVersion: string;
}

export type ImageCheck = { ok: true; descriptor: AppDescriptor; size: number } | { ok: false; reason: string };

function cString(buf: Buffer, offset: number, length: number): string {
  const slice = buf.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? slice.length : end).toString('latin1');
}

/** Reads the header and app descriptor; says precisely what is wrong when it is not an app image. */
export function inspectImage(buf: Buffer): ImageCheck {
  if (buf.length === 0) return { ok: false, reason: 'the file is empty' };
  if (buf[0] !== IMAGE_MAGIC) {
    return {
      ok: false,
      reason: `not an ESP32 app image: first byte is 0x${buf[0].toString(16).padStart(2, '0')}, expected 0xe9`,
    };
  }
  if (buf.length < MIN_LENGTH)
    return { ok: false, reason: `image too short (${buf.length} bytes) to hold an app descriptor` };
  const magic = buf.readUInt32LE(APP_DESC_OFFSET);
  if (magic !== APP_DESC_MAGIC) {
    return {
      ok: false,
      reason: `no app descriptor at 0x20 (magic 0x${magic.toString(16)}, expected 0xabcd5432): a bootloader or merged factory image, not an app`,
    };
  }
  const descriptor: AppDescriptor = {
    version: cString(buf, 0x30, 32),
    projectName: cString(buf, 0x50, 32),
    time: cString(buf, 0x70, 16),
    date: cString(buf, 0x80, 16),
    idfVersion: cString(buf, 0x90, 32),
  };
  if (descriptor.version === '') return { ok: false, reason: 'the app descriptor has an empty version' };
  return { ok: true, descriptor, size: buf.length };
}

export interface BuildImageOptions {
  version: string;
  projectName?: string;
  /** Total size in bytes (padded with a repeating pattern); default 64 KiB. */
  size?: number;
  idfVersion?: string;
}

/** Builds a structurally valid app image (header + descriptor + padding). For simulators and tests. */
export function buildImage(opts: BuildImageOptions): Buffer {
  const size = Math.max(opts.size ?? 65_536, MIN_LENGTH);
  const buf = Buffer.alloc(size);
  for (let i = MIN_LENGTH; i < size; i++) buf[i] = (i * 31) & 0xff;
  buf[0] = IMAGE_MAGIC;
  buf[1] = 1; // segment count
  buf.writeUInt32LE(APP_DESC_MAGIC, APP_DESC_OFFSET);
  buf.write(opts.version.slice(0, 31), 0x30, 'latin1');
  buf.write((opts.projectName ?? 'esp-miner').slice(0, 31), 0x50, 'latin1');
  buf.write('12:00:00', 0x70, 'latin1');
  buf.write('Nov 23 2026', 0x80, 'latin1');
  buf.write((opts.idfVersion ?? 'v5.4.1').slice(0, 31), 0x90, 'latin1');
  return buf;
}

/** What a device expects of an image before anything is sent to it. */
export interface ImageExpectations {
  /** The ESP-IDF project name images for this device carry, e.g. "esp-miner". */
  projectName: string;
  /** A human name of the device family, for messages. */
  family?: string;
}

export type ImageVerdict =
  { ok: true; descriptor: AppDescriptor; size: number } | { ok: false; reason: string; descriptor?: AppDescriptor };

/** inspectImage plus the device's expectations: the project name must match the family. */
export function checkImageFor(buf: Buffer, expect: ImageExpectations): ImageVerdict {
  const check = inspectImage(buf);
  if (!check.ok) return check;
  const { descriptor } = check;
  if (descriptor.projectName !== expect.projectName) {
    return {
      ok: false,
      descriptor,
      reason:
        `the image is for project ${JSON.stringify(descriptor.projectName)} (version ${descriptor.version}), ` +
        `but ${expect.family ?? 'this device'} runs ${JSON.stringify(expect.projectName)}`,
    };
  }
  return check;
}
