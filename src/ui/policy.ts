/**
 * The viewer shows attacker-controlled text (titles, metadata, user agents), so the browser is
 * told to run nothing but our own script: no inline script or style, no other origin, no framing,
 * and Trusted Types, which makes any `innerHTML = string` throw instead of parsing HTML. The page
 * talks only to its own origin (`connect-src 'self'`), so it works only on the gateway it came from.
 * The static page, script and stylesheet get it from public/_headers, the worker's own /ui answers
 * from headers.ts; test/e2e/ui.e2e.ts checks both. A module of its own, free of worker types, so
 * that Node suite can import it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ')

/**
 * Every header the viewer's answers carry besides Cache-Control: the static files through
 * public/_headers, the worker's own /ui answers through headers.ts.
 */
export const VIEWER_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}
