// How testbeds of several labs (factories) are named, the same in the CLI and the fleet: NAME when
// one lab has a testbed of that name, NAME@LAB when more than one has. The unnamed lab (a profile's
// lab_url, a fleet config's [lab]) is called "default".

/** The name of the lab given without a name (lab_url, [lab], --lab-url). */
export const DEFAULT_LAB = 'default';

/** A lab's name in [lab.NAME]: what may follow the @ of NAME@LAB. */
export const LAB_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** Splits NAME@LAB; a plain NAME has no lab. */
export function parseTestbedRef(ref: string): { name: string; lab?: string } {
  const at = ref.lastIndexOf('@');
  return at > 0 ? { name: ref.slice(0, at), lab: ref.slice(at + 1) } : { name: ref };
}

/** NAME in the default lab, NAME@LAB in any other: a reference that says which lab without asking. */
export function labRef(name: string, lab: string): string {
  return lab === DEFAULT_LAB ? name : `${name}@${lab}`;
}

/** Names as people should type them: NAME, or NAME@LAB for a name more than one lab has. */
export function displayNames<T extends { lab: string; name: string }>(items: T[]): Array<T & { ref: string }> {
  const labsOf = new Map<string, Set<string>>();
  for (const i of items) labsOf.set(i.name, (labsOf.get(i.name) ?? new Set()).add(i.lab));
  return items.map((i) => ({ ...i, ref: labsOf.get(i.name)!.size > 1 ? `${i.name}@${i.lab}` : i.name }));
}
