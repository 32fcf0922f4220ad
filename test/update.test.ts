import { beforeEach, describe, expect, it } from 'vitest'
import { auditEventsFor } from './support/audit'
import { api, jsonInit } from './support/gateway'
import { issueKey } from './support/keys'
import { sim } from './support/simulator'

beforeEach(async () => {
  await sim.reset()
})

describe('PATCH /websets/v0/imports/:id', () => {
  it('forwards a valid update and records before and after in one audit row', async () => {
    const item = await sim.seed({ title: 'Q2 leads', metadata: { owner: 'ana' } })
    const { key, name, id: keyId } = await issueKey()

    const res = await api(
      `/websets/v0/imports/${item.id}`,
      jsonInit('PATCH', key, { title: 'Q3 leads', metadata: { owner: 'bo' } })
    )

    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ id: item.id, title: 'Q3 leads', metadata: { owner: 'bo' }, object: 'import' })
    expect(Object.keys(body)).toHaveLength(13)
    expect(res.headers.get('x-request-id')).toMatch(/^req_/)
    expect(res.headers.get('x-upstream-request-id')).toMatch(/^req_/)

    const [event, ...rest] = await auditEventsFor(item.id, key)
    expect(rest).toHaveLength(0)
    expect(event).toMatchObject({
      action: 'import.update',
      importId: item.id,
      outcome: 'succeeded',
      keyId,
      actor: name,
      requestId: res.headers.get('x-request-id'),
      upstreamRequestId: res.headers.get('x-upstream-request-id'),
      upstreamStatus: 200,
      before: { title: 'Q2 leads', metadata: { owner: 'ana' } },
      after: { title: 'Q3 leads', metadata: { owner: 'bo' } },
      requestBody: { title: 'Q3 leads', metadata: { owner: 'bo' } },
      error: null,
    })
    expect(event!.changes).toEqual([
      { path: 'title', from: 'Q2 leads', to: 'Q3 leads' },
      { path: 'metadata.owner', from: 'ana', to: 'bo' },
    ])
    expect(Date.parse(event!.finishedAt)).toBeGreaterThanOrEqual(Date.parse(event!.startedAt))
    expect((await sim.get(item.id)).title).toBe('Q3 leads')
  })
})
