import { expect } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../../src/ui/policy'

/**
 * The viewer's hardening headers, spelled out (not read from VIEWER_HEADERS, so a wrong value
 * there fails). Shared by the pool (the worker's /ui answers) and the e2e suite (the static files
 * served with public/_headers by wrangler dev).
 */
export function expectHardened(res: Response) {
  expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY)
  expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  expect(res.headers.get('x-frame-options')).toBe('DENY')
  expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin')
  expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin')
  expect(res.headers.get('referrer-policy')).toBe('no-referrer')
}
