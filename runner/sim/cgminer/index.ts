// Placeholder until the cgminer simulator lands in this branch.
import { MvmError } from '../../../shared/errors.js';
export async function startCgminerSim(_opts: Record<string, unknown>): Promise<{ address: string; close(): Promise<void> }> {
  throw new MvmError('USAGE', 'the cgminer simulator is not available yet');
}
