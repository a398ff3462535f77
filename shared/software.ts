// Firmware versions as people write them: "2.4.5", "v2.4.5", "esp-miner-2.4.5" and "ESP-Miner v2.4.5"
// name one version. Test definitions, testbed searches and the fleet compare them through this.

/** The comparable form of a version: lower case, without an "esp-miner" prefix or a leading "v". */
export function normaliseSoftware(s: string): string {
  return s
    .trim()
    .toLowerCase()
    .replace(/^esp-?miner[-\s]*/, '')
    .replace(/^v(?=\d)/, '');
}

export function sameSoftware(a: string | null | undefined, b: string | null | undefined): boolean {
  return (
    a !== null && a !== undefined && b !== null && b !== undefined && normaliseSoftware(a) === normaliseSoftware(b)
  );
}
