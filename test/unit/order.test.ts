import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sealableInOrder } from '../../src/audit/order'
import type { AuditEventRow } from '../../src/db/schema'

const T0 = Date.parse('2026-12-01T00:00:00.000Z')
const state = (n: number, title = `s${n}`) => ({
  id: 'import_x',
  title,
  metadata: {},
  updatedAt: new Date(T0 + n * 10).toISOString(),
})

function row(id: string, fields: Partial<AuditEventRow>): AuditEventRow {
  return {
    id,
    action: 'import.update',
    importId: 'import_x',
    outcome: 'pending',
    before: null,
    after: null,
    error: null,
    startedAt: T0,
    finishedAt: null,
    ...fields,
  } as AuditEventRow
}

describe('sealableInOrder', () => {
  it("gives each answered change the state before it in Exa's order, whatever its before read saw", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }).chain((n) =>
          fc.tuple(
            // What each change's before read saw: some state before its own change.
            fc.tuple(...Array.from({ length: n }, (_, k) => fc.integer({ min: 0, max: k }))),
            fc.shuffledSubarray(
              Array.from({ length: n }, (_, k) => k),
              { minLength: n }
            )
          )
        ),
        ([reads, idOrder]) => {
          const rows = reads.map((read, k) =>
            row(`row${idOrder[k]}`, {
              before: state(k === 0 ? 0 : read),
              after: state(k + 1),
              startedAt: T0 + read * 10,
              finishedAt: T0 + (k + 1) * 10 + 1,
            })
          )
          const sealed = sealableInOrder(rows)
          expect(sealed.map(({ row }) => row.after)).toEqual(rows.map((r) => r.after))
          sealed.forEach(({ fields }, k) => {
            expect(fields.before).toEqual(state(k))
            expect(fields.changes).toEqual([{ path: 'title', from: `s${k}`, to: `s${k + 1}` }])
          })
        }
      )
    )
  })

  it('keeps a change waiting while one that started before its answer is unanswered', () => {
    const answered = row('b', { before: state(0), after: state(1), startedAt: T0, finishedAt: T0 + 20 })
    const inFlight = row('a', { before: state(0), startedAt: T0 + 5 })
    expect(sealableInOrder([inFlight, answered])).toEqual([])
    const startedAfter = row('c', { before: state(1), startedAt: T0 + 21 })
    expect(sealableInOrder([answered, startedAfter]).map(({ row }) => row.id)).toEqual(['b'])
  })

  it('takes a state a before read saw (a change outside the gateway) when it is the latest before the change', () => {
    const first = row('a', { before: state(0), after: state(1), startedAt: T0, finishedAt: T0 + 11 })
    const outside = row('b', {
      outcome: 'failed',
      before: state(2, 'outside'),
      startedAt: T0 + 25,
      finishedAt: T0 + 26,
    })
    const last = row('c', { before: state(1), after: state(3), startedAt: T0 + 12, finishedAt: T0 + 31 })
    const [, sealed] = sealableInOrder([first, outside, last])
    expect(sealed!.fields.before).toMatchObject({ title: 'outside' })
  })

  it("notes on a revert's row the change it overwrote after its check", () => {
    const revert = row('r', {
      action: 'import.revert',
      before: state(1),
      after: state(3, 's0'),
      startedAt: T0 + 12,
      finishedAt: T0 + 31,
    })
    const other = row('o', { outcome: 'succeeded', before: state(1), after: state(2), finishedAt: T0 + 21 })
    const [sealed] = sealableInOrder([other, revert])
    expect(sealed!.fields.before).toMatchObject({ title: 's2' })
    expect(sealed!.fields.error).toBe(
      "overwrote event o (title), applied at Exa between the revert's check and its PATCH"
    )
  })
})
