// The Node.js process metrics (CPU, memory, event loop, GC, handles), collected once per process:
// their collectors (an event-loop delay monitor, a GC observer) live as long as the process, so a
// server or factory started and stopped many times in one process (the in-process tests) adds none.
import { collectDefaultMetrics, Registry } from 'prom-client';

let shared: Registry | undefined;

/** `own` plus the process metrics (the same metric objects: nothing is copied or re-registered). */
export function withProcessMetrics(own: Registry): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return Registry.merge([own, shared]);
}
