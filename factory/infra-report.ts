// The runner's infrastructure-failure report (infra-failures.jsonl in the instance's workdir, one
// JSON object a line: at, command, device, reason, message), summarised for the journal. A torn
// last line (the runner killed mid-write) or a line that is not JSON still counts: something failed.
export function summariseInfraReport(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    try {
      const v = JSON.parse(t) as { device?: unknown; reason?: unknown; command?: unknown; message?: unknown };
      const where = [typeof v.device === 'string' ? v.device : undefined, typeof v.command === 'string' ? `runner ${v.command}` : undefined].filter(Boolean).join(', ');
      out.push(`${typeof v.message === 'string' ? v.message : 'a device failed'}${typeof v.reason === 'string' ? ` [${v.reason}]` : ''}${where ? ` (${where})` : ''}`);
    } catch {
      out.push(`unreadable report line: ${t.slice(0, 200)}`);
    }
  }
  return out;
}
