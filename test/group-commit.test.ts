import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GroupCommit } from '../src/lib/group-commit'

/** A group whose rounds take `ms` and are recorded; an item named in `failing` fails its round. */
function recordingGroup(options: {
  maxGroup: number
  ms?: number
  failing?: Set<number>
  alone?: (n: number) => boolean
  gatherMs?: number
}) {
  const rounds: number[][] = []
  const group = new GroupCommit<number, string>({
    maxGroup: options.maxGroup,
    alone: options.alone,
    gatherMs: options.gatherMs,
    run: async (items) => {
      rounds.push(items)
      await new Promise((resolve) => setTimeout(resolve, options.ms ?? 2))
      if (items.some((item) => options.failing?.has(item))) throw new Error(`round ${items.join(',')} failed`)
      return items.map((item) => `done ${item}`)
    },
  })
  return { group, rounds }
}

describe('GroupCommit', () => {
  it('runs a lone caller at once, in a round of its own', async () => {
    const { group, rounds } = recordingGroup({ maxGroup: 8 })
    for (const item of [1, 2, 3]) expect(await group.submit(item)).toBe(`done ${item}`)
    expect(rounds).toEqual([[1], [2], [3]])
  })

  it('groups callers that arrive while a round is in flight, and answers each with its own result', async () => {
    const { group, rounds } = recordingGroup({ maxGroup: 4 })
    const items = [...Array(10).keys()]
    expect(await Promise.all(items.map((item) => group.submit(item)))).toEqual(items.map((item) => `done ${item}`))
    expect(rounds.flat()).toEqual(items) // every item once, in arrival order
    expect(rounds.length).toBeLessThan(items.length)
    expect(Math.max(...rounds.map((round) => round.length))).toBeLessThanOrEqual(4)
  })

  it('fails only the item that fails: its round is retried an item at a time', async () => {
    const { group } = recordingGroup({ maxGroup: 8, failing: new Set([3]) })
    const answers = await Promise.allSettled([...Array(6).keys()].map((item) => group.submit(item)))
    expect(answers.map((answer) => answer.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ])
    expect((answers[3] as PromiseRejectedResult).reason.message).toBe('round 3 failed')
  })

  it('runs an item marked alone in a round of its own, keeping queue order', async () => {
    const { group, rounds } = recordingGroup({ maxGroup: 8, alone: (n) => n % 5 === 0 })
    await Promise.all([...Array(12).keys()].map((item) => group.submit(item)))
    expect(rounds.flat()).toEqual([...Array(12).keys()])
    for (const round of rounds) if (round.some((n) => n % 5 === 0)) expect(round).toHaveLength(1)
  })

  it('with gatherMs, waits before a round so that callers arriving meanwhile join it', async () => {
    const later = (ms: number, item: number, group: GroupCommit<number, string>) =>
      new Promise((resolve) => setTimeout(resolve, ms)).then(() => group.submit(item))
    const gathered = recordingGroup({ maxGroup: 8, gatherMs: 30 })
    await Promise.all([gathered.group.submit(0), later(5, 1, gathered.group), later(10, 2, gathered.group)])
    expect(gathered.rounds).toEqual([[0, 1, 2]])
    // Without it the first caller's round runs at once, alone.
    const direct = recordingGroup({ maxGroup: 8, ms: 30 })
    await Promise.all([direct.group.submit(0), later(5, 1, direct.group), later(10, 2, direct.group)])
    expect(direct.rounds).toEqual([[0], [1, 2]])
  })

  it('answers every caller exactly once with its own result, whatever the arrivals and failures (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.nat({ max: 19 }), { maxLength: 3 }),
        async (delays, maxGroup, failingItems) => {
          const failing = new Set(failingItems)
          const { group, rounds } = recordingGroup({ maxGroup, ms: 1, failing })
          const answers = await Promise.allSettled(
            delays.map(async (delay, item) => {
              await new Promise((resolve) => setTimeout(resolve, delay))
              return group.submit(item)
            })
          )
          answers.forEach((answer, item) =>
            expect(answer).toEqual(
              failing.has(item)
                ? expect.objectContaining({ status: 'rejected' })
                : { status: 'fulfilled', value: `done ${item}` }
            )
          )
          for (const round of rounds) expect(round.length).toBeLessThanOrEqual(maxGroup)
        }
      ),
      { numRuns: 60 }
    )
  })
})
