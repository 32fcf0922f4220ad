import { createMiddleware } from 'hono/factory'
import { createDb } from '../db/client'
import { parseConfig, type AppEnv } from '../env'
import { ApiError } from '../errors'

/** Parses the configuration (cached per env) and opens the D1 handle for the request. */
export const loadContext = () =>
  createMiddleware<AppEnv>(async function loadContext(c, next) {
    const config = parseConfig(c.env)
    if (typeof config === 'string') throw new ApiError('CONFIGURATION_ERROR', `bad configuration: ${config}`)
    c.set('config', config)
    c.set('db', createDb(c.env.DB))
    await next()
  })
