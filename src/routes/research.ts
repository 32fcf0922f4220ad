import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { GetResearchQuery, ListResearchQuery, ResearchCreateBody, ResearchIdParam } from '../exa/core-schemas'
import { readCall } from '../exa/query'
import { requireKey } from '../http/auth'
import { jsonBody } from '../http/json-body'
import { zv } from '../http/validator'
import { passThrough } from '../operations/upstream'

export const RESEARCH_PATH = '/research/v1'

/**
 * Exa's Research API, retired upstream (Exa answers 410 RESEARCH_RETIRED): forwarded as exa-js
 * 2.23.0 calls it, validated like any other route, so Exa's own answer reaches the caller
 * unchanged. A create is not audited: Exa makes nothing.
 */
export const research = new Hono<AppEnv>()
  .post('/', requireKey('research:write'), jsonBody(), zv('json', ResearchCreateBody), (c) =>
    passThrough(c, { method: 'POST', path: RESEARCH_PATH, body: c.req.valid('json') })
  )
  .get('/', requireKey('research:read'), zv('query', ListResearchQuery), (c) =>
    passThrough(c, readCall(RESEARCH_PATH, c.req.valid('query')))
  )
  .get('/:id', requireKey('research:read'), zv('param', ResearchIdParam), zv('query', GetResearchQuery), (c) =>
    passThrough(c, readCall(`${RESEARCH_PATH}/${c.req.valid('param').id}`, c.req.valid('query')))
  )
