// V8 settings for the long-running daemons (mvm server, factory, fleet), set before they load
// their modules. Idle, they allocate little, but a burst (start-up, a busy minute) makes V8 grow
// its young generation to 16 MB per semi-space, which it then keeps for good: half of an idle
// factory's heap was that empty space (doc/performance.md, footprint). At its initial size a
// scavenge is as cheap as ever, only more frequent. And undici's HTTP parser is WebAssembly whose
// optimising recompile costs a transient ~35 MB; the baseline compiler is fast enough here.
// The agent sets the same for the same reasons (agent/main.ts).
import { setFlagsFromString } from 'node:v8';

export function useDaemonHeap(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--liftoff-only');
}
