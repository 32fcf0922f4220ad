import { describe, expect, it } from 'vitest'
import { addCost, currentSpend, dollars, periodEnd } from '../../src/keys/budget'
import { costMicrosOf, meterStream } from '../../src/lib/cost'

const encoder = new TextEncoder()

/** A stream of these texts, one chunk each; the metered copy read whole, and what onEnd got. */
async function meter(chunks: string[]) {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    },
  })
  let ended: { cost: number | null; completed: boolean } | undefined
  const metered = meterStream(source, (cost, completed) => (ended = { cost, completed }))
  const text = await new Response(metered).text()
  return { text, ended }
}

describe('costMicrosOf', () => {
  it('reads costDollars.total in millionths, and nothing else', () => {
    expect(costMicrosOf({ costDollars: { total: 0.007 } })).toBe(7000)
    expect(costMicrosOf({ costDollars: { total: 0.1 + 0.2 } })).toBe(300_000)
    expect(costMicrosOf({ costDollars: { total: '0.007' } })).toBeNull()
    expect(costMicrosOf({ costDollars: { search: 1 } })).toBeNull()
    expect(costMicrosOf({ costDollars: { total: -1 } })).toBeNull()
    expect(costMicrosOf(null)).toBeNull()
    expect(costMicrosOf([1])).toBeNull()
  })
})

describe('meterStream', () => {
  it('passes every chunk through unchanged and finds the cost split across chunks', async () => {
    const chunks = ['data: {"choices":[]}\n\n', 'data: {"costDollars":{"to', 'tal":0.005},"requestId":"r"}\n', '\n']
    const { text, ended } = await meter(chunks)
    expect(text).toBe(chunks.join(''))
    expect(ended).toEqual({ cost: 5000, completed: true })
  })

  it('keeps the last cost seen, and null when there is none', async () => {
    expect((await meter(['data: {"costDollars":{"total":1}}\n\ndata: {"costDollars":{"total":2}}'])).ended!.cost).toBe(
      2_000_000
    )
    expect((await meter(['data: {"text":"no cost"}\n\n', 'data: [DONE]\n\n'])).ended).toEqual({
      cost: null,
      completed: true,
    })
  })
})

describe('budget periods', () => {
  const now = Date.parse('2026-12-31T23:59:59Z')
  it('end at the next UTC midnight or the first of next month', () => {
    expect(new Date(periodEnd('day', now)).toISOString()).toBe('2027-01-01T00:00:00.000Z')
    expect(new Date(periodEnd('month', Date.parse('2026-02-10T05:00:00Z'))).toISOString()).toBe(
      '2026-03-01T00:00:00.000Z'
    )
  })

  it('start from 0 once the day or month has turned', () => {
    const spend = addCost(addCost(undefined, 7000, now), 3000, now)
    expect(spend).toEqual({ day: '2026-12-31', dayMicros: 10_000, month: '2026-12', monthMicros: 10_000 })
    expect(currentSpend(spend, now + 1000)).toEqual({
      day: '2027-01-01',
      dayMicros: 0,
      month: '2027-01',
      monthMicros: 0,
    })
    const sameMonth = currentSpend({ ...spend, day: '2026-12-30' }, now)
    expect(sameMonth).toMatchObject({ dayMicros: 0, monthMicros: 10_000 })
  })

  it('print dollars to the millionth, no trailing zeros', () => {
    expect(dollars(25_003_000)).toBe('$25.003')
    expect(dollars(10_000_000)).toBe('$10')
    expect(dollars(14_000)).toBe('$0.014')
    expect(dollars(123_456_789_012)).toBe('$123456.789012')
  })
})
