import { Hono } from 'hono/tiny'
import { parseConfig, type AppEnv } from '../env'

/** Liveness for operators and load balancers: D1 reachable and configuration usable; no secrets. */
export const health = new Hono<AppEnv>().get('/healthz', async (c) => {
  const config = parseConfig(c.env)
  const d1 = await c.env.DB.prepare('SELECT 1')
    .first()
    .then(() => true)
    .catch(() => false)
  const configError = typeof config === 'string' ? config : config.exaApiKey ? null : 'EXA_API_KEY is not set'
  const ok = d1 && configError === null
  return c.json(
    {
      ok,
      d1: d1 ? 'ok' : 'unreachable',
      config: configError === null ? 'ok' : configError,
      adminApi: typeof config !== 'string' && config.adminToken ? 'on' : 'keys with scope admin only',
    },
    ok ? 200 : 503
  )
})
