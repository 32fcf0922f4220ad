// crypto.subtle.timingSafeEqual is a Workers extension of Web Crypto: this module runs in workerd only.
const encoder = new TextEncoder()

/** Compares two SHA-256 hex digests in constant time. */
export function digestsEqual(a: string, b: string): boolean {
  return a.length === b.length && crypto.subtle.timingSafeEqual(encoder.encode(a), encoder.encode(b))
}

/**
 * Compares two secrets in constant time: both are hashed first, so neither the length nor the
 * first differing byte shows in the timing.
 */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ])
  return crypto.subtle.timingSafeEqual(da, db)
}
