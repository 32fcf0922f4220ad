import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isBrowserOrigin } from '../../src/keys/schemas'

describe('isBrowserOrigin', () => {
  it.each([
    'https://app.example.com',
    'https://example.com',
    'https://app.example.com:8443',
    'https://app.example.com:80',
    'https://localhost',
    'https://127.0.0.1:8443',
    'https://xn--bcher-kva.example',
    'https://a-b.c-d.example',
    'http://localhost',
    'http://localhost:5173',
    'http://localhost:443',
    'http://127.0.0.1',
    'http://127.0.0.1:3000',
    'http://[::1]',
    'http://[::1]:8080',
  ])('accepts %s', (origin) => {
    expect(isBrowserOrigin(origin)).toBe(true)
  })

  it.each([
    // plain http off loopback
    ['http://app.example.com', 'http off loopback'],
    ['http://example.com:8080', 'http off loopback'],
    ['http://127.0.0.2', 'http off the listed loopback hosts'],
    ['http://0.0.0.0', 'http off loopback'],
    ['http://localhost.example.com', 'http off loopback'],
    ['http://localhost.', 'http off loopback'],
    // not exactly as a browser sends it
    ['https://app.example.com/', 'trailing slash'],
    ['http://localhost:5173/', 'trailing slash'],
    ['https://app.example.com/path', 'path'],
    ['https://app.example.com/ui/', 'path'],
    ['https://app.example.com?x=1', 'query'],
    ['https://app.example.com#x', 'fragment'],
    ['https://app.example.com:443', 'default port'],
    ['http://localhost:80', 'default port'],
    ['https://app.example.com:0443', 'port with a leading zero'],
    ['HTTPS://app.example.com', 'upper case scheme'],
    ['https://App.Example.com', 'upper case host'],
    ['http://LOCALHOST:5173', 'upper case host'],
    ['https://user@app.example.com', 'userinfo'],
    ['https://user:pass@app.example.com', 'userinfo'],
    ['http://user@localhost', 'userinfo'],
    ['https://bücher.example', 'host not in punycode'],
    ['http://127.1', 'host not in canonical form'],
    ['http://[0:0:0:0:0:0:0:1]', 'host not in canonical form'],
    [' https://app.example.com', 'surrounding space'],
    ['https://app.example.com ', 'surrounding space'],
    ['https:app.example.com', 'missing slashes'],
    ['https:///app.example.com', 'extra slash'],
    ['//app.example.com', 'no scheme'],
    ['app.example.com', 'no scheme'],
    // other schemes
    ['ftp://app.example.com', 'other scheme'],
    ['ws://localhost', 'other scheme'],
    ['wss://app.example.com', 'other scheme'],
    ['file:///etc/passwd', 'other scheme'],
    ['chrome-extension://abcdefghijklmnop', 'other scheme'],
    ['blob:https://app.example.com/1f0e', 'other scheme'],
    ['data:text/html,hi', 'other scheme'],
    ['javascript:alert(1)', 'other scheme'],
    ['null', 'opaque origin'],
    ['', 'empty'],
    ['*', 'wildcard'],
  ])('refuses %s (%s)', (origin) => {
    expect(isBrowserOrigin(origin)).toBe(false)
  })

  it('accepts an https origin with any port but 443, and refuses it with a path or trailing slash (property)', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/)
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('com', 'example', 'dev'),
        fc.option(fc.integer({ min: 1, max: 65535 })),
        fc.stringMatching(/^\/[a-z0-9/]*$/),
        (labels, tld, port, path) => {
          fc.pre(!labels.some((l) => l.startsWith('xn--')) && !/^\d+$/.test(tld))
          const origin = `https://${[...labels, tld].join('.')}${port === null ? '' : `:${port}`}`
          expect(isBrowserOrigin(origin)).toBe(port !== 443)
          expect(isBrowserOrigin(origin + path)).toBe(false)
          expect(isBrowserOrigin(origin.replace('https:', 'http:'))).toBe(false)
          expect(isBrowserOrigin(origin.toUpperCase())).toBe(false)
        }
      )
    )
  })
})
