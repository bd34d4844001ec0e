import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedHostsFor, checkHost, checkOrigin, cookieName, guardRequest, hostOf, type GuardConfig } from '../../../src/main/server/request-guard.js';

const cfg: GuardConfig = { token: 'secret-token', port: 8765, allowedHosts: allowedHostsFor('127.0.0.1') };
const ok = { host: '127.0.0.1:8765' };

test('the token is required, in the query or the per-port cookie', () => {
  assert.deepEqual(guardRequest({ url: '/?token=secret-token', headers: ok }, cfg), { ok: true, tokenFrom: 'query' });
  assert.deepEqual(guardRequest({ url: '/app.js', headers: { ...ok, cookie: `other=1; ${cookieName(8765)}=secret-token` } }, cfg), {
    ok: true,
    tokenFrom: 'cookie',
  });
  const missing = guardRequest({ url: '/', headers: ok }, cfg);
  assert.equal(missing.ok, false);
  assert.match((missing as { reason: string }).reason, /missing token/);
  assert.deepEqual(guardRequest({ url: '/?token=secret-tokem', headers: ok }, cfg), { ok: false, reason: 'wrong token' });
  assert.deepEqual(guardRequest({ url: '/?token=', headers: ok }, cfg), { ok: false, reason: 'wrong token' });
  // Another port's cookie does not open this server.
  assert.equal(guardRequest({ url: '/', headers: { ...ok, cookie: `${cookieName(8766)}=secret-token` } }, cfg).ok, false);
  // A wrong token in the query is not rescued by a right cookie.
  assert.equal(guardRequest({ url: '/?token=x', headers: { ...ok, cookie: `${cookieName(8765)}=secret-token` } }, cfg).ok, false);
});

test('a foreign Host header (DNS rebinding) is refused even with the token', () => {
  for (const host of ['evil.example:8765', 'evil.example', '127.0.0.1:9999', '127.0.0.1', '127.0.0.1.evil.example:8765', '', 'localhost:8765@evil']) {
    const r = guardRequest({ url: '/?token=secret-token', headers: { host } }, cfg);
    assert.equal(r.ok, false, host);
  }
  for (const host of ['127.0.0.1:8765', 'localhost:8765', 'LOCALHOST:8765', '[::1]:8765']) {
    assert.equal(checkHost(host, cfg), undefined, host);
  }
  assert.match(checkHost(undefined, cfg)!, /missing Host/);
});

test('a foreign Origin is refused; a missing one (not a browser) is allowed', () => {
  assert.equal(checkOrigin(undefined, cfg), undefined);
  assert.equal(checkOrigin('http://127.0.0.1:8765', cfg), undefined);
  assert.equal(checkOrigin('http://localhost:8765', cfg), undefined);
  for (const origin of ['https://evil.example', 'http://127.0.0.1:8766', 'null', 'file://', 'https://127.0.0.1:8765', 'http://evil.example:8765']) {
    assert.match(checkOrigin(origin, cfg) ?? '', /foreign Origin/, origin);
  }
  const r = guardRequest({ url: '/api/ws?token=secret-token', headers: { ...ok, origin: 'https://evil.example' } }, cfg);
  assert.equal(r.ok, false);
});

test('hostOf parses names, IPv4 and bracketed IPv6', () => {
  assert.deepEqual(hostOf('localhost:80'), { host: 'localhost', port: 80 });
  assert.deepEqual(hostOf('[::1]:8765'), { host: '::1', port: 8765 });
  assert.deepEqual(hostOf('example.com'), { host: 'example.com', port: undefined });
  assert.equal(hostOf('a b'), undefined);
});

test('a server bound to another address answers to it and to loopback names only', () => {
  assert.deepEqual(allowedHostsFor('192.168.1.5').sort(), ['127.0.0.1', '192.168.1.5', '::1', 'localhost'].sort());
  assert.ok(!allowedHostsFor('0.0.0.0').includes('0.0.0.0'));
});
