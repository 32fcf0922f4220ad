const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/

function encodeTime(ms: number): string {
  let out = ''
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[ms % 32] + out
    ms = Math.floor(ms / 32)
  }
  return out
}

/** A ULID: 48-bit millisecond time + 80 random bits, so ids sort by creation time. */
export function ulid(now = Date.now()): string {
  const random = crypto.getRandomValues(new Uint8Array(16))
  let out = encodeTime(now)
  for (const byte of random) out += CROCKFORD[byte % 32]
  return out
}

/** The smallest ULID of a millisecond: `id >= ulidFloor(t)` means "created at or after t". */
export function ulidFloor(ms: number): string {
  return encodeTime(ms) + '0'.repeat(16)
}

/** The largest ULID of a millisecond. */
export function ulidCeil(ms: number): string {
  return encodeTime(ms) + 'Z'.repeat(16)
}

export function randomId(prefix: string): string {
  return prefix + ulid().toLowerCase()
}

/** Client key ids are `randomId('key_')`; the admin API's path and the audit `keyId` filter check them alike. */
export const KEY_ID_PATTERN = /^key_[0-9a-z]{26}$/
export const KEY_ID_MESSAGE = 'key id looks like key_ followed by 26 characters'
