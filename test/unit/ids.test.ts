import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ULID_PATTERN, ulid, ulidCeil, ulidFloor } from '../../src/lib/ids'

const MAX_TIME = 2 ** 48 - 1 // a ULID's time is 48 bits of milliseconds
const time = fc.oneof(
  fc.integer({ min: 0, max: MAX_TIME }),
  fc.integer({ min: 1_500_000_000_000, max: 2_500_000_000_000 })
)
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

describe('ULID_PATTERN', () => {
  it('accepts 26 Crockford base-32 characters and nothing else', () => {
    expect(ULID_PATTERN.test('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(true)
    expect(ULID_PATTERN.test(CROCKFORD.slice(0, 26))).toBe(true)
    for (const bad of [
      '01ARZ3NDEKTSV4RRFFQ69G5FA',
      '01ARZ3NDEKTSV4RRFFQ69G5FAVV',
      '01arz3ndektsv4rrffq69g5fav',
      '01ARZ3NDEKTSV4RRFFQ69G5FAI',
      '01ARZ3NDEKTSV4RRFFQ69G5FAL',
      '01ARZ3NDEKTSV4RRFFQ69G5FAO',
      '01ARZ3NDEKTSV4RRFFQ69G5FAU',
      '01ARZ3NDEKTSV4RRFFQ69G5FA-',
      '',
      ' 01ARZ3NDEKTSV4RRFFQ69G5FAV',
    ])
      expect(ULID_PATTERN.test(bad), bad).toBe(false)
  })
})

describe('ulid', () => {
  it('encodes the time in the first 10 characters, most significant first', () => {
    expect(ulid(0).slice(0, 10)).toBe('0000000000')
    expect(ulid(1).slice(0, 10)).toBe('0000000001')
    expect(ulid(32).slice(0, 10)).toBe('0000000010')
    expect(ulid(MAX_TIME).slice(0, 10)).toBe('7ZZZZZZZZZ')
    // The example of the ULID spec: 1469918176385 ms is 01ARYZ6S41.
    expect(ulid(1_469_918_176_385).slice(0, 10)).toBe('01ARYZ6S41')
    expect(ulidFloor(1_469_918_176_385)).toBe('01ARYZ6S410000000000000000')
    expect(ulidCeil(1_469_918_176_385)).toBe('01ARYZ6S41ZZZZZZZZZZZZZZZZ')
  })

  it('uses Date.now() by default', () => {
    const before = Date.now()
    const id = ulid()
    const after = Date.now()
    expect(id >= ulidFloor(before) && id <= ulidCeil(after)).toBe(true)
  })

  it('gives different ids within one millisecond, with random characters spread over the alphabet', () => {
    const ids = Array.from({ length: 2000 }, () => ulid(1_780_000_000_000))
    expect(new Set(ids).size).toBe(ids.length)
    const seen = new Set(ids.flatMap((id) => [...id.slice(10)]))
    expect(seen).toEqual(new Set(CROCKFORD))
  })

  it('matches ULID_PATTERN for any time (property)', () => {
    fc.assert(
      fc.property(time, (t) => {
        expect(ulid(t)).toMatch(ULID_PATTERN)
        expect(ulidFloor(t)).toMatch(ULID_PATTERN)
        expect(ulidCeil(t)).toMatch(ULID_PATTERN)
      })
    )
  })

  it('sorts by time: an earlier time gives a smaller id (property over pairs)', () => {
    fc.assert(
      fc.property(time, time, (a, b) => {
        fc.pre(a !== b)
        const [x, y] = [ulid(a), ulid(b)]
        expect(x < y).toBe(a < b)
      })
    )
    // Neighbouring milliseconds, where only the last time characters differ.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_TIME - 1 }), (t) => {
        expect(ulid(t) < ulid(t + 1)).toBe(true)
      })
    )
  })

  it('floor(t) <= ulid(t) <= ceil(t) < floor(t + 1) (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_TIME - 1 }), (t) => {
        const id = ulid(t)
        expect(ulidFloor(t) <= id).toBe(true)
        expect(id <= ulidCeil(t)).toBe(true)
        expect(ulidCeil(t) < ulidFloor(t + 1)).toBe(true)
        expect(ulidFloor(t) < ulidCeil(t)).toBe(true)
      })
    )
  })

  it('floor and ceil bracket every id of their millisecond and no other (property)', () => {
    fc.assert(
      fc.property(time, time, (t, u) => {
        const id = ulid(u)
        expect(id >= ulidFloor(t)).toBe(u >= t)
        expect(id <= ulidCeil(t)).toBe(u <= t)
      })
    )
  })
})
