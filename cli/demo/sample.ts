// The demo's sample job: an MVM test definition for a Bitaxe Gamma that asks for firmware v2.10.0
// (an image beside it, as a CI build would leave it), controls the miner from its script, and
// checks hashrate and temperature; plus the lab's firmware library (the testbeds' baselines).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../runner/firmware/image.js';

export const SAMPLE_VERSION = 'v2.10.0';

export interface SampleFiles {
  spec: string;
  folder: string;
}

/** Images for every baseline version the lab's AxeOS devices carry. */
export function writeFirmwareLibrary(dir: string, versions: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const v of new Set(versions)) writeFileSync(join(dir, `esp-miner-${v}.bin`), buildImage({ version: v }));
}

export function writeSample(dir: string): SampleFiles {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `esp-miner-${SAMPLE_VERSION}.bin`), buildImage({ version: SAMPLE_VERSION }));
  writeFileSync(
    join(dir, 'smoke.sh'),
    [
      '#!/bin/bash',
      '# Runs on the testbed after the runner flashed the requested firmware; MVM_DEVICE_* name the device.',
      'set -o errexit -o pipefail',
      'echo "testing $MVM_DEVICE_0_NAME ($MVM_DEVICE_0_HARDWARE) at $MVM_DEVICE_0_ADDRESS"',
      'mvm runner info',
      'mvm runner control mode turbo',
      'mvm runner control pools set --pool-url stratum+tcp://127.0.0.1:3334 --user demo.smoke',
      'mvm runner telemetry',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const spec = join(dir, 'smoke.yaml');
  writeFileSync(
    spec,
    [
      '# An MVM test definition: the devices it needs, the script, and the checks.',
      'name: bitaxe-gamma-smoke',
      'script: smoke.sh',
      'devices:',
      '  - name: miner',
      '    hardware: "601"',
      '    attributes: ["fan:stock"]',
      `    software: ${SAMPLE_VERSION}`,
      `    image: esp-miner-${SAMPLE_VERSION}.bin`,
      'poll: 1s',
      'checks:',
      '  - type: hashrate',
      '    min_percent: 80',
      '    window: 6s',
      '  - type: temperature',
      '    max: 75',
      '    window: 6s',
      '  - type: rejected_ratio',
      '    max: 0.05',
      '    window: 6s',
      '',
    ].join('\n'),
  );
  return { spec, folder: dir };
}
