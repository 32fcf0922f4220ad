import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../env'

/**
 * The viewer shows attacker-controlled text (titles, metadata, user agents), so the browser is
 * told to run nothing but our own script: no inline script or style, no other origin, no framing,
 * and Trusted Types, which makes any `innerHTML = string` throw instead of parsing HTML. The page
 * talks only to its own origin (`connect-src 'self'`), so it works only on the gateway it came from.
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

/** Headers on every /ui answer: the CSP plus the usual hardening a page of operators' data needs. */
export const uiHeaders = () =>
  createMiddleware<AppEnv>(async function uiHeaders(c, next) {
    await next()
    const headers = c.res.headers
    headers.set('content-security-policy', CONTENT_SECURITY_POLICY)
    headers.set('x-content-type-options', 'nosniff')
    headers.set('x-frame-options', 'DENY')
    headers.set('referrer-policy', 'no-referrer')
    headers.set('cross-origin-opener-policy', 'same-origin')
    // Other sites may not even load the script or stylesheet.
    headers.set('cross-origin-resource-policy', 'same-origin')
    // Small and versioned with the worker: revalidate, so a deploy shows at the next load.
    if (!headers.has('cache-control')) headers.set('cache-control', 'no-cache')
  })
