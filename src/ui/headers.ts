import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../env'
import { CONTENT_SECURITY_POLICY } from './policy'

/** Headers on the worker's /ui answers: the CSP plus the usual hardening a page of operators' data needs. */
export const uiHeaders = () =>
  createMiddleware<AppEnv>(async function uiHeaders(c, next) {
    await next()
    const headers = c.res.headers
    headers.set('content-security-policy', CONTENT_SECURITY_POLICY)
    headers.set('x-content-type-options', 'nosniff')
    headers.set('x-frame-options', 'DENY')
    headers.set('referrer-policy', 'no-referrer')
    headers.set('cross-origin-opener-policy', 'same-origin')
    headers.set('cross-origin-resource-policy', 'same-origin')
    if (!headers.has('cache-control')) headers.set('cache-control', 'no-cache')
  })
