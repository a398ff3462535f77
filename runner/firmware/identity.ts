// Which family and board an image is for. Every ESP-Miner and NerdQAxe++ build carries the project
// name "esp-miner", so the app descriptor cannot tell a Bitaxe image from a NerdQAxe one or one
// board from another: the family comes from a statement beside the image (`<image>.json`, written
// when the image is added to the library: {"family": "bitaxe", "board": "601"}) or from the
// release asset's name. An image of unknown family is flashed only when the caller says so.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { MvmError } from '../../shared/errors.js';

export type ImageFamily = 'bitaxe' | 'nerdqaxe';
export const IMAGE_FAMILIES: readonly ImageFamily[] = ['bitaxe', 'nerdqaxe'];

export interface ImageIdentity {
  family: ImageFamily;
  /** A board-specific build (a factory image); undefined for the board-generic OTA app. */
  board?: string;
  /** Where the family was learnt. */
  source: 'statement' | 'asset name';
}

/** The statement file recorded beside an image. */
export const statementFile = (image: string): string => `${image}.json`;

function fromStatement(image: string): ImageIdentity | undefined {
  const file = statementFile(image);
  if (!existsSync(file)) return undefined;
  let doc: { family?: unknown; board?: unknown };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as typeof doc;
  } catch (err) {
    throw new MvmError('CONFIG_INVALID', `${file}: not valid JSON (${(err as Error).message})`, {
      hint: 'write {"family": "bitaxe"|"nerdqaxe", "board": "601"} or remove the file',
    });
  }
  if (!IMAGE_FAMILIES.includes(doc.family as ImageFamily)) {
    throw new MvmError(
      'CONFIG_INVALID',
      `${file}: family ${JSON.stringify(doc.family)} is not one of ${IMAGE_FAMILIES.join(', ')}`,
      { hint: 'write {"family": "bitaxe"|"nerdqaxe", "board": "601"}' },
    );
  }
  if (doc.board !== undefined && typeof doc.board !== 'string') {
    throw new MvmError('CONFIG_INVALID', `${file}: board must be a string such as "601" or "NerdQAxe++"`);
  }
  return { family: doc.family as ImageFamily, board: doc.board as string | undefined, source: 'statement' };
}

/**
 * From a release asset name: NerdQAxe builds name their board (esp-miner-NerdQAxe++.bin,
 * esp-miner-factory-NerdQAxe++-v1.0.30.bin); ESP-Miner's are esp-miner.bin (all Bitaxe boards),
 * esp-miner-<version>.bin, or esp-miner-factory-<board>-<version>.bin.
 */
export function familyFromName(file: string): ImageIdentity | undefined {
  const name = basename(file).replace(/\.bin$/i, '');
  const nerd = /(nerd[a-z]*(?:\+\+|plus(?:plus)?|pp)?)/i.exec(name);
  if (nerd) {
    const board = /nerdq?axe(\+\+|plusplus|pp)/i.test(nerd[1])
      ? 'NerdQAxe++'
      : nerd[1].length > 4
        ? nerd[1]
        : undefined;
    return { family: 'nerdqaxe', board, source: 'asset name' };
  }
  if (/^esp-miner(?:$|[-_])/i.test(name) || /bitaxe/i.test(name)) {
    const board = /(?:^|[-_])(\d{3})(?:[-_]|$)/.exec(name)?.[1];
    return { family: 'bitaxe', board, source: 'asset name' };
  }
  return undefined;
}

export function identifyImage(file: string): ImageIdentity | undefined {
  return fromStatement(file) ?? familyFromName(file);
}

/** Same board, ignoring case ("nerdqaxe++" is "NerdQAxe++"). */
export const sameBoard = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();
