// The agent's entry, dist/agent/mvm-agent.cjs (agent/build.mjs copies it there): it runs the
// bundled agent (dist/agent/mvm-agent.bundle.cjs) with V8's code cache for it, which the build
// makes (MVM_AGENT_WRITE_CODE_CACHE=1) so that an agent does not compile its code from source
// every time: about 20 ms of CPU, a quarter of what the agent costs beyond Node.js itself.
// CommonJS on purpose: an ES module entry costs Node.js another ~10 ms to start. A cache missing,
// older than the bundle, or refused by V8 (another Node.js) only means compiling from source.
'use strict';
const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const code = join(__dirname, 'mvm-agent.bundle.cjs');
const cacheFile = `${code}.v8cache`;
const source = readFileSync(code, 'utf8');
let cachedData;
try {
  // V8 itself checks only the source's length: a cache made for another build must not be used.
  if (statSync(cacheFile).mtimeMs >= statSync(code).mtimeMs) cachedData = readFileSync(cacheFile);
} catch {
  // no cache: compiled from source
}
const script = new Script(wrap(source), { filename: code, cachedData });
if (process.env.MVM_AGENT_WRITE_CODE_CACHE === '1') {
  // After the run, so the cache holds the functions compiled while loading, not only the top level.
  process.once('exit', () => {
    writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
    renameSync(`${cacheFile}.tmp`, cacheFile);
  });
}
const mod = { exports: {} };
script.runInThisContext()(mod.exports, createRequire(code), mod, code, __dirname);
