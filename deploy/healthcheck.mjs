#!/usr/bin/env node
// Probes an mvm daemon's health endpoint: exits 0 once URL answers 2xx, 1 when it has not within
// WAIT seconds (0: one try). Used by the container's HEALTHCHECK (no curl in the image) and by the
// systemd units' ExecStartPost (so units ordered after a daemon start once it is ready).
//   node deploy/healthcheck.mjs [URL] [WAIT]    URL defaults to $MVM_HEALTH_URL, else the job server's /healthz
const url = process.argv[2] || process.env.MVM_HEALTH_URL || 'http://127.0.0.1:9300/healthz';
const waitS = Number(process.argv[3] ?? '0');
if (!Number.isFinite(waitS) || waitS < 0) {
  process.stderr.write(`healthcheck: WAIT must be a number of seconds, not ${JSON.stringify(process.argv[3])}\n`);
  process.exit(2);
}
const deadline = Date.now() + waitS * 1000;
let last = '';
for (;;) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (r.ok) process.exit(0);
    last = `${r.status} ${(await r.text()).slice(0, 200)}`;
  } catch (err) {
    last = err.cause?.code ?? err.message;
  }
  if (Date.now() >= deadline) break;
  await new Promise((r) => setTimeout(r, 250));
}
process.stderr.write(`healthcheck: ${url} not healthy: ${last}\n`);
process.exit(1);
