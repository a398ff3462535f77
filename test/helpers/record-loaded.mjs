// Preloaded with `node --import` into a command under test: on exit it writes what the process
// loaded to $MVM_TEST_LOADED — every CommonJS module (packages imported from ES modules go through
// that loader too: better-sqlite3, ssh2, undici) and every native addon opened by process.dlopen.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const native = [];
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  native.push(filename);
  return dlopen.call(this, module, filename, ...rest);
};
process.on('exit', () => {
  writeFileSync(process.env.MVM_TEST_LOADED, JSON.stringify({ native, cjs: Object.keys(require.cache) }));
});
