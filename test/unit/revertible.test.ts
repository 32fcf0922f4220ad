import { describe, expect, it } from 'vitest'
import { assertUnchangedSince, type RevertibleEvent } from '../../src/audit/revertible'

const event = (resourceType: string, after: Record<string, unknown>) =>
  ({ id: 'ev', resourceType, resourceId: 'x', before: {}, after }) as unknown as RevertibleEvent

describe('assertUnchangedSince', () => {
  it('counts only the fields the revert puts back (a webset status Exa moved on its own does not)', () => {
    const after = { id: 'w', status: 'running', metadata: { a: '1' } }
    expect(() => assertUnchangedSince(event('webset', after), { ...after, status: 'idle' }, ['metadata'])).not.toThrow()
    expect(() =>
      assertUnchangedSince(event('webset', after), { ...after, metadata: { a: '2' } }, ['metadata'])
    ).toThrow(/metadata\.a/)
  })

  it('a webhook deleted since (inactive) has changed', () => {
    const after = { id: 'h', status: 'active', url: 'https://a', events: ['webset.created'], metadata: {} }
    const fields = ['url', 'events', 'status', 'metadata']
    expect(() => assertUnchangedSince(event('webhook', after), { ...after, status: 'inactive' }, fields)).toThrow(
      /status/
    )
  })
})
