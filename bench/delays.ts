/**
 * Deployed-like latency around the bindings, from outside the product code: Miniflare's
 * `wrappedBindings`. A wrapper worker's default export is called with `env` holding the real
 * binding (the wrapper worker's own `INNER` binding) and `DELAY_MS`, and returns what the
 * gateway sees as `env.DB` or `env.RATE_LIMITER`: the same API, each call to D1 or to a Durable
 * Object waiting DELAY_MS first (a round trip to where it runs when deployed). Nothing in src/
 * knows: the gateway bundle is the one `wrangler deploy` uploads.
 *
 * The wrapper code runs inside the isolate of the worker that has the binding (so its few
 * microseconds count as that worker's CPU, as a binding's client side does when deployed);
 * D1 itself and the Durable Object still run in the same workerd, on the same thread.
 */
import type { WorkerOptions } from 'miniflare'

/** D1: every `prepare(…)[.bind(…)].first/all/run/raw`, `batch` and `exec` waits first. */
const D1_WRAPPER = `
export default function (env) {
  const db = env.INNER
  const wait = () => new Promise((resolve) => setTimeout(resolve, env.DELAY_MS))
  const real = new WeakMap()
  const delayed = (call) => async (...args) => {
    await wait()
    return call(...args)
  }
  const statement = (inner) => {
    const wrapped = {
      bind: (...values) => statement(inner.bind(...values)),
      first: delayed((...args) => inner.first(...args)),
      all: delayed((...args) => inner.all(...args)),
      run: delayed((...args) => inner.run(...args)),
      raw: delayed((...args) => inner.raw(...args)),
    }
    real.set(wrapped, inner)
    return wrapped
  }
  return {
    prepare: (query) => statement(db.prepare(query)),
    batch: delayed((statements) => db.batch(statements.map((s) => real.get(s) ?? s))),
    exec: delayed((query) => db.exec(query)),
    dump: delayed(() => db.dump()),
  }
}`

/**
 * A Durable Object namespace: ids pass through (made locally when deployed too); `get` and
 * `getByName` give stubs whose every method call (RPC, or fetch) waits first.
 */
const DO_WRAPPER = `
export default function (env) {
  const ns = env.INNER
  const wait = () => new Promise((resolve) => setTimeout(resolve, env.DELAY_MS))
  const stub = (inner) =>
    new Proxy(
      {},
      {
        get(_, prop) {
          if (prop === 'id' || prop === 'name') return inner[prop]
          if (typeof prop !== 'string' || prop === 'then') return undefined
          return async (...args) => {
            await wait()
            return inner[prop](...args)
          }
        },
      }
    )
  return {
    idFromName: (name) => ns.idFromName(name),
    idFromString: (id) => ns.idFromString(id),
    newUniqueId: (options) => ns.newUniqueId(options),
    get: (id, options) => stub(ns.get(id, options)),
    getByName: (name, options) => stub(ns.getByName(name, options)),
  }
}`

export const D1_WRAPPER_NAME = 'bench-delayed-d1'
export const DO_WRAPPER_NAME = 'bench-delayed-do'

/**
 * The two wrapper workers for a Miniflare `workers` list (never first in it). `d1Id` is the D1
 * database the wrapper reaches (shared by id with every worker of the instance that names it);
 * the Durable Object class lives in `doScriptName` (which need not bind it itself).
 */
export function delayWorkers(options: { d1Id: string; doScriptName: string; doClassName: string }): WorkerOptions[] {
  return [
    { name: D1_WRAPPER_NAME, modules: true, script: D1_WRAPPER, d1Databases: { INNER: options.d1Id } },
    {
      name: DO_WRAPPER_NAME,
      modules: true,
      script: DO_WRAPPER,
      durableObjects: {
        INNER: { className: options.doClassName, scriptName: options.doScriptName, useSQLite: true },
      },
    },
  ]
}

/** A worker's `wrappedBindings` entry: that wrapper, waiting `delayMs` before each call. */
export const delayed = (wrapper: typeof D1_WRAPPER_NAME | typeof DO_WRAPPER_NAME, delayMs: number) => ({
  scriptName: wrapper,
  bindings: { DELAY_MS: delayMs },
})
