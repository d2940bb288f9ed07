/**
 * The PAC file, run as a browser runs it: the script in a fresh JavaScript context with no
 * PAC helpers, asked FindProxyForURL(url, host) for loopback and --direct destinations and others.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { buildPac, PacFiles, type PacRule } from '../../client/http/pac.js';
import { parseTarget } from '../../common/target-syntax.js';

const PROXIED = 'SOCKS5 127.0.0.1:1080; PROXY 127.0.0.1:1080';

function findProxy(pac: string, url: string): string {
  const host = /^[a-z]+:\/\/(\[[^\]]+\]|[^/:?#]+)/i.exec(url)![1];
  const context: Record<string, unknown> = { url, host };
  return runInNewContext(`${pac}\nFindProxyForURL(url, host);`, context, { timeout: 1_000 }) as string;
}

describe('the PAC file', () => {
  const pac = buildPac({ host: '127.0.0.1', port: 1080 });

  test('sends everything else through SOCKS5, with the HTTP proxy as the fallback', () => {
    for (const url of ['http://example.com/', 'https://example.com/', 'http://10.1.2.3:8080/', 'http://[2001:db8::1]/', 'http://localhost.example/', 'http://128.0.0.1/']) {
      assert.equal(findProxy(pac, url), PROXIED, url);
    }
  });

  test('sends loopback names and addresses DIRECT', () => {
    for (const url of ['http://localhost/', 'http://LOCALHOST:3000/', 'http://app.localhost/', 'http://127.0.0.1:8080/', 'http://127.255.0.9/', 'http://[::1]:9/', 'http://[0:0::1]/']) {
      assert.equal(findProxy(pac, url), 'DIRECT', url);
    }
  });

  test('names an IPv6 listener in brackets', () => {
    assert.equal(findProxy(buildPac({ host: '::1', port: 1080 }), 'http://example.com/'), 'SOCKS5 [::1]:1080; PROXY [::1]:1080');
  });

  const rule = (text: string, direct: boolean): PacRule => ({ target: parseTarget(text, { allowAny: true }), direct });

  test('sends --direct names, domains and ranges DIRECT, within their ports', () => {
    const direct = ['Intranet.Example', '*.corp.example', '10.0.0.0/8', '192.168.1.0/25:443', 'fd00::/8', '[2001:db8:0:1::/63]:1-1024'].map((text) => rule(text, true));
    const withRules = buildPac({ host: '127.0.0.1', port: 1080 }, direct);
    const table: Array<[string, string]> = [
      ['http://intranet.example/', 'DIRECT'],
      ['http://intranet.example./', 'DIRECT'],
      ['http://www.intranet.example/', PROXIED],
      ['https://git.corp.example/', 'DIRECT'],
      ['https://a.b.corp.example/', 'DIRECT'],
      ['https://corp.example/', PROXIED], // *.domain: names below it only, as the routing rules
      ['http://xcorp.example/', PROXIED],
      ['http://10.200.3.4/', 'DIRECT'],
      ['http://11.0.0.1/', PROXIED],
      ['https://192.168.1.100/', 'DIRECT'],
      ['https://192.168.1.200/', PROXIED],
      ['http://192.168.1.100/', PROXIED],
      ['http://192.168.1.100:443/', 'DIRECT'],
      ['http://[fd12:3456::1]/', 'DIRECT'],
      ['http://[fe80::1]/', PROXIED],
      ['http://[2001:db8:0:1:ffff::1]/', 'DIRECT'],
      ['http://[2001:db8::1]/', 'DIRECT'], // /63: 2001:db8:0:0:: to 2001:db8:0:1:ffff:…
      ['http://[2001:db8:0:2::1]/', PROXIED],
      ['https://[2001:db8::1]:2000/', PROXIED],
    ];
    for (const [url, want] of table) assert.equal(findProxy(withRules, url), want, url);
  });

  test('keeps first-match order: a rule for the proxy ahead of a --direct one wins', () => {
    const rules = [rule('secret.corp.example', false), rule('10.9.0.0/16', false), rule('*.corp.example', true), rule('10.0.0.0/8', true), rule('*:22', true)];
    const pac = buildPac({ host: '127.0.0.1', port: 1080 }, rules);
    assert.equal(findProxy(pac, 'http://secret.corp.example/'), PROXIED);
    assert.equal(findProxy(pac, 'http://open.corp.example/'), 'DIRECT');
    assert.equal(findProxy(pac, 'http://10.9.1.1/'), PROXIED);
    assert.equal(findProxy(pac, 'http://10.8.1.1/'), 'DIRECT');
    assert.equal(findProxy(pac, 'ssh://anywhere.example:22/'), 'DIRECT');
    assert.equal(findProxy(pac, 'ssh://secret.corp.example:22/'), PROXIED);
  });

  test('names that are object machinery are just names', () => {
    const pac = buildPac({ host: '127.0.0.1', port: 1080 }, [rule('example.com', true)]);
    for (const name of ['__proto__', 'constructor', 'hasOwnProperty', 'tostring']) assert.equal(findProxy(pac, `http://${name}/`), PROXIED, name);
  });
});

describe('the PAC files served', () => {
  const rule = (text: string, direct: boolean): PacRule => ({ target: parseTarget(text), direct });
  const port = { host: '127.0.0.1', port: 1080 };

  test('built once per rules object and address; new rules (a reload) build anew', () => {
    const files = new PacFiles();
    const rules = [rule('*.example.cn', true)];
    const first = files.get(port, rules);
    assert.equal(first.toString(), buildPac(port, rules));
    assert.equal(files.get(port, rules), first, 'the same rules: the same bytes, not rebuilt');
    const other = files.get({ host: '192.0.2.7', port: 1080 }, rules);
    assert.match(other.toString(), /SOCKS5 192\.0\.2\.7:1080/);
    assert.equal(files.get(port, rules), first);
    const reloaded = [rule('*.example.cn', false)];
    const rebuilt = files.get(port, reloaded);
    assert.notEqual(rebuilt, first);
    assert.equal(findProxy(rebuilt.toString(), 'http://www.example.cn/'), PROXIED);
    assert.equal(findProxy(first.toString(), 'http://www.example.cn/'), 'DIRECT');
  });
});
