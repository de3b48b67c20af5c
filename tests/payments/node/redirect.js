// Loaded with `node --require` by the real-package tests: sends TLS connections for the
// hosts named in MAYA_TEST_REDIRECT ({"api.stripe.com:443": "127.0.0.1:PORT", ...}) to a
// local server instead, keeping the SNI name, so certificates are checked as usual
// (against the test CA in NODE_EXTRA_CA_CERTS). Nothing else is changed.
'use strict';
const tls = require('node:tls');
const map = JSON.parse(process.env.MAYA_TEST_REDIRECT || '{}');
const original = tls.connect;

function redirect(options) {
  const host = options.host || options.servername || 'localhost';
  const port = Number(options.port || 443);
  const target = map[`${host}:${port}`];
  if (!target) {
    if (process.env.MAYA_TEST_REDIRECT_STRICT === '1') {
      throw new Error(`test redirect: refusing to reach ${host}:${port}`);
    }
    return options;
  }
  const [toHost, toPort] = target.split(':');
  return { ...options, host: toHost, port: Number(toPort), servername: options.servername || host };
}

tls.connect = function connect(...args) {
  if (args.length > 0 && typeof args[0] === 'object' && args[0] !== null) {
    args[0] = redirect(args[0]);
  } else if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    // tls.connect(port[, host][, options][, callback])
    const port = args[0];
    const host = typeof args[1] === 'string' ? args[1] : undefined;
    const rest = args.slice(host === undefined ? 1 : 2);
    const options = typeof rest[0] === 'object' && rest[0] !== null ? rest.shift() : {};
    args = [redirect({ ...options, port, host }), ...rest];
  }
  return original.apply(this, args);
};
