import { Hono } from 'hono/tiny'
import { parseConfig, type AppEnv, type Config } from '../env'

const adminApi = (config: Config | string) =>
  typeof config === 'string' || config.adminTokenProblem
    ? 'off'
    : config.adminToken
      ? 'on'
      : 'keys with scope admin only'

/** Liveness for operators and load balancers: D1 reachable and configuration usable; no secrets. */
export const health = new Hono<AppEnv>().get('/healthz', async (c) => {
  const config = parseConfig(c.env)
  const d1 = await c.env.DB.prepare('SELECT 1')
    .first()
    .then(() => true)
    .catch(() => false)
  const problems =
    typeof config === 'string'
      ? [config]
      : [config.exaApiKey ? undefined : 'EXA_API_KEY is not set', config.adminTokenProblem].filter(Boolean)
  const ok = d1 && problems.length === 0
  return c.json(
    {
      ok,
      d1: d1 ? 'ok' : 'unreachable',
      config: problems.length ? problems.join('; ') : 'ok',
      adminApi: adminApi(config),
    },
    ok ? 200 : 503
  )
})
