import { describe, expect, it } from 'vitest'
import * as z from 'zod/mini'
import { en } from 'zod/locales'
import {
  CreateEnrichmentBody,
  CreateMonitorBody,
  CreateWebsetBody,
  CreateWebsetSearchBody,
  EnrichmentSnapshot,
  PreviewWebsetBody,
  UpdateEnrichmentBody,
  UpdateMonitorBody,
} from '../../src/exa/webset-bodies'

// As src/app.ts does: zod's English messages for the issues a schema leaves to zod.
z.config(en())

/** The issues' paths and messages, or 'ok'. */
const check = (schema: z.ZodMiniType, body: unknown) => {
  const result = schema.safeParse(body)
  return result.success ? 'ok' : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

describe('webset change bodies', () => {
  it('fill in the defaults Exa documents and exa-js requires', () => {
    expect(CreateWebsetBody.parse({ search: { query: 'x' } })).toEqual({ search: { query: 'x', count: 10 } })
    expect(PreviewWebsetBody.parse({ search: { query: 'x' } })).toEqual({ search: { query: 'x', count: 10 } })
    expect(CreateWebsetSearchBody.parse({ query: 'x', count: 3 })).toMatchObject({ behavior: 'override' })
    expect(
      CreateMonitorBody.parse({
        websetId: 'crm:7',
        cadence: { cron: '0 9 * * 1' },
        behavior: { type: 'search', config: { count: 5 } },
      })
    ).toMatchObject({ cadence: { timezone: 'Etc/UTC' }, behavior: { config: { behavior: 'append' } } })
  })

  it('refuse what exa-js cannot send, with messages that say what to change', () => {
    expect(check(CreateWebsetBody, { title: 'x' })).toEqual([expect.stringContaining('title')])
    expect(check(CreateWebsetBody, { externalId: '..' })).toEqual([expect.stringMatching(/^externalId: /)])
    expect(check(CreateWebsetBody, { search: { query: 'x', criteria: Array(6).fill({ description: 'c' }) } })).toEqual([
      'search.criteria: must hold at most 5',
    ])
    expect(check(PreviewWebsetBody, { search: { query: 'x', count: 11 } })).toEqual([
      'search.count: must be at most 10',
    ])
    expect(check(CreateWebsetSearchBody, { query: 'x', count: 1.5 })).toEqual(['count: must be a whole number'])
    expect(check(CreateEnrichmentBody, { description: '', format: 'csv' })).toEqual([
      'description: must be at least 1 character',
      'format: must be one of text, date, number, options, email, phone, url',
    ])
    expect(check(CreateEnrichmentBody, { description: 'x', options: [] })).toEqual(['options: must hold at least 1'])
    expect(check(UpdateEnrichmentBody, { metadata: null })).toBe('ok')
    expect(check(UpdateMonitorBody, { status: 'paused' })).toEqual(['status: must be "enabled" or "disabled"'])
    for (const cron of ['*/5 * * * *', '0 9,17 * * *', '0 9 * *', '60 9 * * *'])
      expect(check(UpdateMonitorBody, { cadence: { cron } })).toEqual([
        expect.stringMatching(/^cadence.cron: .*once a day/),
      ])
    expect(check(UpdateMonitorBody, { cadence: { cron: '0 9 * * *', timezone: 'Mars/Base' } })).toEqual([
      'cadence.timezone: must be an IANA time zone such as Etc/UTC',
    ])
    expect(check(UpdateMonitorBody, { cadence: { cron: '15 23 1 * *', timezone: 'America/New_York' } })).toBe('ok')
  })

  it('keep an answer as it came once it has the fields the audit needs', () => {
    const answer = { id: 'wenrich_1', websetId: 'webset_1', status: 'pending', extra: [1] }
    expect(EnrichmentSnapshot.parse(answer)).toEqual(answer)
    expect(EnrichmentSnapshot.safeParse({ id: 'wenrich_1' }).success).toBe(false)
  })
})
