import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addressBlock } from '../../src/http/admin-lockout'

describe('addressBlock', () => {
  it('keeps an IPv4 address, and names a missing one', () => {
    expect(addressBlock('203.0.113.7')).toBe('203.0.113.7')
    expect(addressBlock(undefined)).toBe('unknown')
    expect(addressBlock(' ')).toBe('unknown')
  })

  it('takes the /64 of an IPv6 address, however it is written', () => {
    for (const address of [
      '2001:db8:1:2::1',
      '2001:0db8:0001:0002:0000:0000:0000:0001',
      '2001:DB8:1:2:ffff:ffff:ffff:ffff',
      '2001:db8:1:2::',
    ])
      expect(addressBlock(address), address).toBe('2001:db8:1:2::/64')
    expect(addressBlock('::1')).toBe('0:0:0:0::/64')
    expect(addressBlock('fe80::1:2')).toBe('fe80:0:0:0::/64')
    expect(addressBlock('2001:db8::1:2:3:4')).toBe('2001:db8:0:0::/64')
  })

  it('takes the IPv4 address out of an IPv4-mapped one', () => {
    expect(addressBlock('::ffff:192.0.2.1')).toBe('192.0.2.1')
  })

  it('gives the full and every compressed form of an address the same block', () => {
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }))
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.nat(7), fc.nat(8), (groups, from, length) => {
        const hex = groups.map((g) => g.toString(16))
        const full = hex.join(':')
        const to = Math.min(8, from + length)
        // Compress the zero run [from, to) with ::, when it is one.
        if (to - from < 1 || !groups.slice(from, to).every((g) => g === 0)) return
        const compressed = `${hex.slice(0, from).join(':')}::${hex.slice(to).join(':')}`
        expect(addressBlock(compressed)).toBe(addressBlock(full))
      })
    )
  })
})
