// Placeholder until the nmminer simulator lands in this branch.
import { MvmError } from '../../../shared/errors.js';
export async function startNmminerSim(_opts: Record<string, unknown>): Promise<{ address: string; close(): Promise<void> }> {
  throw new MvmError('USAGE', 'the nmminer simulator is not available yet');
}
