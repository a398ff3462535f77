// The lab pages over several labs: a daemon that watches several factories lists them all at
// GET /api/labs (each lab reachable or not, every testbed with its lab and the name to use) and
// reaches each factory API at /api/labs/LAB/...; an older daemon has one lab at /api/lab/....
import { enc, upstreams } from './api.js';

/** Labs the daemon names (empty: an older daemon, one [lab] at most). */
export function labNames(): string[] {
  return upstreams.value?.labs ?? [];
}

/** Whether any lab is configured. */
export function labsConfigured(): boolean {
  return !!upstreams.value?.lab || labNames().length > 0;
}

/** Where the testbeds of every lab (or one) are listed. */
export function testbedsUrl(lab?: string): string {
  if (upstreams.value?.labs === undefined) return '/api/lab/v1/testbeds';
  return lab ? `/api/labs?lab=${enc(lab)}` : '/api/labs';
}

/** The factory API of a lab through the daemon (no lab: [lab], or the only one). */
export function labBase(lab?: string): string {
  return lab && upstreams.value?.labs !== undefined ? `/api/labs/${enc(lab)}` : '/api/lab';
}

/** NAME@LAB → its parts; a plain NAME has no lab. */
export function parseRef(ref: string): { name: string; lab?: string } {
  const at = ref.lastIndexOf('@');
  return at > 0 ? { name: ref.slice(0, at), lab: ref.slice(at + 1) } : { name: ref };
}
