import { toBase64url } from '../lib/base64url'

/** Client keys: `egw_` + 32 random bytes in base64url (43 characters). */
export const KEY_PREFIX = 'egw_'
const KEY_PATTERN = /^egw_[A-Za-z0-9_-]{43}$/

export function generateKey(): string {
  return KEY_PREFIX + toBase64url(crypto.getRandomValues(new Uint8Array(32)))
}

export function looksLikeKey(value: string): boolean {
  return KEY_PATTERN.test(value)
}

/** What admins see of a secret: enough to tell keys apart, far too little to use one. */
export function displayPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX.length + 6)
}
