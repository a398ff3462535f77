// What the agent's bundle uses of undici (shared/http.ts: Agent and request with a dispatcher),
// without its index, which also loads fetch, WebSocket, caches, mocks and every other dispatcher
// (three quarters of the bundle and of its start-up time). agent/build.mjs puts this module in
// place of `undici` for the bundle only; everything else uses undici itself.
'use strict';
const Agent = require('../node_modules/undici/lib/dispatcher/agent.js');
const Dispatcher = require('../node_modules/undici/lib/dispatcher/dispatcher.js');
const errors = require('../node_modules/undici/lib/core/errors.js');
const api = require('../node_modules/undici/lib/api/index.js');

Object.assign(Dispatcher.prototype, api);

/** undici's `request(url, opts)`, for callers that always name their dispatcher. */
function request(url, opts) {
  if (!opts || !opts.dispatcher) throw new errors.InvalidArgumentError('the agent bundle needs opts.dispatcher');
  const u = typeof url === 'string' ? new URL(url) : url;
  return opts.dispatcher.request({
    ...opts,
    origin: u.origin,
    path: u.search ? `${u.pathname}${u.search}` : u.pathname,
    method: opts.method || (opts.body ? 'PUT' : 'GET'),
  });
}

module.exports = { Agent, Dispatcher, errors, request };
