import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../env'
import { VIEWER_HEADERS } from './policy'

/** Headers on the worker's /ui answers: the CSP plus the usual hardening a page of operators' data needs. */
export const uiHeaders = () =>
  createMiddleware<AppEnv>(async function uiHeaders(c, next) {
    await next()
    const headers = c.res.headers
    for (const [name, value] of Object.entries(VIEWER_HEADERS)) headers.set(name, value)
    if (!headers.has('cache-control')) headers.set('cache-control', 'no-cache')
  })
