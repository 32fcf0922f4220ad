import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { openExa } from '../exa/client'
import { AnswerBody, BetaHeader, ContentsBody, FindSimilarBody, SearchBody } from '../exa/core-schemas'
import { requireKey } from '../http/auth'
import { jsonBody } from '../http/json-body'
import { zv } from '../http/validator'
import { relayStream, upstreamConfig } from '../operations/upstream'

/** /contents takes many URLs: a larger body than the other calls' 64 KiB. */
const CONTENTS_MAX_BYTES = 256 * 1024

/** The `exa-beta` header a client sent (validated), to forward as it came. */
const betaHeaders = (beta: string | undefined) => (beta ? { 'exa-beta': beta } : undefined)

/**
 * Exa's paid calls at Exa's own paths: search, findSimilar, contents, answer. Nothing changes
 * on Exa, so nothing is audited; each call spends money, so none is ever retried. A body that
 * asks for a stream (`/answer` with `stream: true`, `/search` with `stream` and `outputSchema`)
 * gets Exa's SSE passed through as it arrives.
 */
export const core = new Hono<AppEnv>()
  .post('/search', requireKey('search'), jsonBody(), zv('json', SearchBody), zv('header', BetaHeader), async (c) => {
    const call = { method: 'POST', path: '/search', body: c.req.valid('json') } as const
    const headers = betaHeaders(c.req.valid('header')['exa-beta'])
    return relayStream(c, await openExa(upstreamConfig(c), { ...call, headers }))
  })
  .post('/findSimilar', requireKey('search'), jsonBody(), zv('json', FindSimilarBody), async (c) =>
    relayStream(
      c,
      await openExa(upstreamConfig(c), { method: 'POST', path: '/findSimilar', body: c.req.valid('json') })
    )
  )
  .post(
    '/contents',
    requireKey('contents'),
    jsonBody(CONTENTS_MAX_BYTES),
    zv('json', ContentsBody),
    zv('header', BetaHeader),
    async (c) => {
      const call = { method: 'POST', path: '/contents', body: c.req.valid('json') } as const
      const headers = betaHeaders(c.req.valid('header')['exa-beta'])
      return relayStream(c, await openExa(upstreamConfig(c), { ...call, headers }))
    }
  )
  .post('/answer', requireKey('answer'), jsonBody(), zv('json', AnswerBody), async (c) =>
    relayStream(c, await openExa(upstreamConfig(c), { method: 'POST', path: '/answer', body: c.req.valid('json') }))
  )
