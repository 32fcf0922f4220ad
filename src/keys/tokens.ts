import { sha256Hex } from '../sha256'

export { sha256Hex }

/** Client keys: `egw_` + 32 random bytes in base64url (43 characters). */
export const KEY_PREFIX = 'egw_'
const KEY_PATTERN = /^egw_[A-Za-z0-9_-]{43}$/

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function generateKey(): string {
  return KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)))
}

export function looksLikeKey(value: string): boolean {
  return KEY_PATTERN.test(value)
}

/** What admins see of a secret: enough to tell keys apart, far too little to use one. */
export function displayPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX.length + 6)
}


/** Compares two SHA-256 hex digests in constant time. */
export function digestsEqual(a: string, b: string): boolean {
  const encoder = new TextEncoder()
  return a.length === b.length && crypto.subtle.timingSafeEqual(encoder.encode(a), encoder.encode(b))
}

/**
 * Compares two secrets in constant time: both are hashed first, so neither the length nor the
 * first differing byte shows in the timing.
 */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder()
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ])
  return crypto.subtle.timingSafeEqual(da, db)
}
