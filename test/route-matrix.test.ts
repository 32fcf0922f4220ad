import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app'
import { guardOf, type Guard } from '../src/http/auth'
import { ADMIN_IMPLIES, SCOPES } from '../src/keys/principal'
import { expectError } from './support/errors'
import { api } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

/**
 * Authentication and authorization for every route, generated from the app's own route table:
 * a route added tomorrow is covered without anyone writing a test for it, and a route whose
 * guard (requireKey / requireAdmin) is removed fails here.
 */

/** Routes anyone may call. Every other route must have a guard. */
const PUBLIC = new Set(['GET /healthz'])

type RouteEntry = { method: string; path: string; handler: object }

const table = createApp().routes as RouteEntry[]

/** Whether a registered pattern (a route's, or a middleware's `/*`) applies to `path`. */
const covers = (pattern: string, path: string) =>
  pattern === path ||
  pattern === '/*' ||
  (pattern.endsWith('/*') && (path === pattern.slice(0, -2) || path.startsWith(pattern.slice(0, -1))))

/** Every method + path the app answers, with the guards that run for it (its own and its sub-app's). */
const routes = [
  ...new Map(table.filter((r) => r.method !== 'ALL').map((r) => [`${r.method} ${r.path}`, r])).values(),
].map(({ method, path }) => ({
  method,
  path,
  guards: table
    .filter((r) => (r.method === method || r.method === 'ALL') && covers(r.path, path))
    .map((r) => guardOf(r.handler))
    .filter((guard): guard is Guard => guard !== undefined),
}))

/** The path with every parameter filled in (auth runs before validation, so any value will do). */
const concrete = (path: string) => path.replace(/:[A-Za-z]+/g, 'x0')
const asDocumented = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}')

/**
 * docs/routes.md's route table as `METHOD /path` entries: rows like
 * `| GET, PATCH | \`/admin/keys/{id}\` | … |` (a query string after the path is ignored).
 */
function documentedRoutes(markdown: string): Set<string> {
  const entries = new Set<string>()
  for (const line of markdown.split('\n')) {
    const [, methods, path] = line.split('|').map((cell) => cell.trim())
    if (!methods || !path || !/^[A-Z]+(, *[A-Z]+)*$/.test(methods)) continue
    const bare = path.replace(/`/g, '').split(/[?\s]/)[0]!
    for (const method of methods.split(',')) entries.add(`${method.trim()} ${bare}`)
  }
  return entries
}

/** What a caller must have: the union of the guards' scopes, and whether one is the admin guard. */
function requirement(guards: Guard[]) {
  const scopes = new Set(guards.flatMap((guard) => (guard.kind === 'key' ? guard.scopes : ['admin' as const])))
  return [...scopes]
}

const send = (method: string, path: string, headers: Record<string, string> = {}) =>
  api(concrete(path), {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: method === 'GET' || method === 'DELETE' ? undefined : '{}',
  })

const BROWSER_ORIGIN = 'https://app.matrix.example'
let browserKey: IssuedKey
const withoutScope = new Map<string, IssuedKey>()

beforeAll(async () => {
  await sim.reset()
  browserKey = await issueKey([...SCOPES], { origins: [BROWSER_ORIGIN] })
  // A scope that admin implies is missing only from a key without admin too.
  for (const scope of SCOPES)
    withoutScope.set(
      scope,
      await issueKey(SCOPES.filter((s) => s !== scope && !(ADMIN_IMPLIES.includes(scope) && s === 'admin')))
    )
})

it('finds the routes: the table is the app, not a hand-kept list', () => {
  expect(routes.length).toBeGreaterThanOrEqual(16)
  expect(routes.map((r) => `${r.method} ${r.path}`)).toContain('PATCH /websets/v0/imports/:id')
})

describe.each(routes)('$method $path', ({ method, path, guards }) => {
  const name = `${method} ${path}`
  if (PUBLIC.has(name)) {
    it('is public on purpose and has no guard', () => expect(guards).toEqual([]))
    return
  }

  it('has a guard', () => expect(guards.length, `${name} has no requireKey/requireAdmin`).toBeGreaterThan(0))

  it('answers 401 without a credential', async () => {
    await expectError(await send(method, path), 401, 'UNAUTHENTICATED')
  })

  for (const scope of requirement(guards)) {
    it(`answers 403 to a key without ${scope}`, async () => {
      const key = withoutScope.get(scope)!
      await expectError(await send(method, path, { 'x-api-key': key.key }), 403, 'FORBIDDEN', new RegExp(scope))
    })
  }

  it('answers 403 to a browser key from an origin it does not list', async () => {
    const res = await send(method, path, { 'x-api-key': browserKey.key, origin: 'https://elsewhere.example' })
    await expectError(res, 403, 'FORBIDDEN', /origin/)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('is in the route table of docs/routes.md', () => {
    expect([...documentedRoutes(env.TEST_ROUTES)]).toContain(`${method} ${asDocumented(path)}`)
  })
})

it('forwarded nothing upstream for any refused request', async () => {
  expect(await sim.requests()).toEqual([])
})
