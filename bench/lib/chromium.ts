// Debian's headless Chromium as the web UI's tests (test/helpers/browser.ts) and its bench
// (bench/web-ui.ts) launch it with playwright-core: which binary, and the flags this machine's
// closed network needs (no background connections, no sandbox as root). Never downloads a browser.

export const CHROMIUM = process.env.MVM_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
