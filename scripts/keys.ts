/**
 * `npm run keys -- <command>`: the operator's CLI for gateway keys, a thin client of the admin API
 * of a running gateway. The admin credential comes from the environment (ADMIN_TOKEN, or a key
 * with scope admin), never from the command line, where it would land in shell history.
 */
import { parseArgs } from 'node:util'

const USAGE = `Usage: npm run keys -- <command> [options]

Commands:
  create --name NAME --scopes SCOPE[,SCOPE…] [--origins URL[,URL…]] [--expires-at ISO] [--rate-limit N/SECONDS]
         [--budget USD/day|month[/SOFT_USD]]
  list
  show <key id>                               (with what it spent this UTC day and month)
  update <key id> [--name NAME] [--scopes …] [--origins …|--no-origins] [--expires-at ISO|--no-expiry]
                  [--rate-limit N/SECONDS|--default-rate-limit] [--budget USD/day|month[/SOFT_USD]|--no-budget]
  revoke <key id>
  rotate <key id> [--grace-period SECONDS]    (default 0: the old secret stops at once)

Options:
  --url URL   the gateway (default: $GATEWAY_URL or http://127.0.0.1:8787)
  --json      print the gateway's JSON answer as is

Environment:
  ADMIN_TOKEN  the gateway's ADMIN_TOKEN, or a key with scope admin

Scopes: imports:read, imports:write, audit:read, usage:read, admin`

class UsageError extends Error {}

type KeyView = Record<string, unknown> & { id: string; name: string; key?: string }

const list = (value: string | undefined) =>
  value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean)

function rateLimit(value: string | undefined) {
  if (value === undefined) return undefined
  const match = /^(\d+)\/(\d+)$/.exec(value)
  if (!match) throw new UsageError('--rate-limit takes REQUESTS/SECONDS, e.g. 100/60')
  return { requests: Number(match[1]), periodSeconds: Number(match[2]) }
}

/** `25/month`, `2.5/day/2`: dollars per UTC period, and optionally the soft threshold. */
function budget(value: string | undefined) {
  if (value === undefined) return undefined
  const match = /^(\d+(?:\.\d+)?)\/(day|month)(?:\/(\d+(?:\.\d+)?))?$/.exec(value)
  if (!match) throw new UsageError('--budget takes USD/day or USD/month, optionally /SOFT_USD: e.g. 25/month/20')
  return { usd: Number(match[1]), period: match[2], ...(match[3] === undefined ? {} : { soft: Number(match[3]) }) }
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      json: { type: 'boolean' },
      name: { type: 'string' },
      scopes: { type: 'string' },
      origins: { type: 'string' },
      'no-origins': { type: 'boolean' },
      'expires-at': { type: 'string' },
      'no-expiry': { type: 'boolean' },
      'rate-limit': { type: 'string' },
      'default-rate-limit': { type: 'boolean' },
      budget: { type: 'string' },
      'no-budget': { type: 'boolean' },
      'grace-period': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  return { values, command: positionals[0], id: positionals[1] }
}

/** The body of a create or update: only what was given, `null` where a --no-… flag clears. */
function keyBody(values: ReturnType<typeof parse>['values']) {
  const body: Record<string, unknown> = {}
  if (values.name !== undefined) body.name = values.name
  if (values.scopes !== undefined) body.scopes = list(values.scopes)
  if (values.origins !== undefined) body.origins = list(values.origins)
  if (values['no-origins']) body.origins = null
  if (values['expires-at'] !== undefined) body.expiresAt = values['expires-at']
  if (values['no-expiry']) body.expiresAt = null
  if (values['rate-limit'] !== undefined) body.rateLimit = rateLimit(values['rate-limit'])
  if (values['default-rate-limit']) body.rateLimit = null
  if (values.budget !== undefined) body.budget = budget(values.budget)
  if (values['no-budget']) body.budget = null
  return body
}

async function call(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const credential = process.env.ADMIN_TOKEN?.trim()
  if (!credential) throw new Error('set ADMIN_TOKEN to the gateway admin token (or a key with scope admin)')
  let res: Response
  try {
    res = await fetch(url.replace(/\/+$/, '') + path, {
      method,
      headers: {
        authorization: `Bearer ${credential}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (err) {
    throw new Error(`cannot reach the gateway at ${url}: ${(err as Error).message}`, { cause: err })
  }
  const json = (await res.json().catch(() => null)) as any
  if (!res.ok) {
    const detail = json?.tag ? ` (${json.tag}, request ${json.requestId})` : ''
    throw new Error(`${res.status}: ${json?.error ?? 'the gateway answered without a JSON body'}${detail}`)
  }
  return json
}

function describeBudget(budget: { usd: number; period: string; soft?: number } | null | undefined): string {
  if (!budget) return '(none)'
  return `$${budget.usd} per UTC ${budget.period}${budget.soft === undefined ? '' : `, flagged past $${budget.soft}`}`
}

function describe(key: KeyView): string {
  const rows: [string, unknown][] = [
    ['id', key.id],
    ['name', key.name],
    ['status', key.status],
    ['prefix', key.prefix],
    ['scopes', (key.scopes as string[]).join(', ')],
    ['origins', (key.origins as string[] | null)?.join(', ') ?? '(server key: any client)'],
    [
      'rate limit',
      key.rateLimit ? `${(key.rateLimit as any).requests} per ${(key.rateLimit as any).periodSeconds} s` : '(default)',
    ],
    ['budget', describeBudget(key.budget as any)],
    ['expires', key.expiresAt ?? 'never'],
    ['last used', key.lastUsedAt ?? 'never'],
  ]
  const usage = key.usage as any
  if (usage) {
    rows.push(['spent today', `$${usage.day.costUsd} in ${usage.day.calls} calls (UTC ${usage.day.start})`])
    rows.push(['spent this month', `$${usage.month.costUsd} in ${usage.month.calls} calls (Exa's estimates)`])
  }
  if (key.previousSecretExpiresAt) rows.push(['old secret ends', key.previousSecretExpiresAt])
  return rows.map(([label, value]) => `  ${label.padEnd(16)}${value}`).join('\n')
}

function printSecret(key: KeyView) {
  console.log(`\nSecret, shown this once (the gateway keeps only its hash):\n\n  ${key.key}\n`)
}

async function main(argv: string[]) {
  const { values, command, id } = parse(argv)
  if (values.help || !command) return console.log(USAGE)
  const url = values.url ?? process.env.GATEWAY_URL ?? 'http://127.0.0.1:8787'
  const needId = () => {
    if (!id) throw new UsageError(`${command} needs a key id (npm run keys -- list shows them)`)
    return encodeURIComponent(id)
  }
  let result: any
  switch (command) {
    case 'create':
      if (!values.name || !values.scopes) throw new UsageError('create needs --name and --scopes')
      result = await call(url, 'POST', '/admin/keys', keyBody(values))
      break
    case 'list':
      result = await call(url, 'GET', '/admin/keys')
      break
    case 'show':
      result = await call(url, 'GET', `/admin/keys/${needId()}`)
      break
    case 'update':
      result = await call(url, 'PATCH', `/admin/keys/${needId()}`, keyBody(values))
      break
    case 'revoke':
      result = await call(url, 'DELETE', `/admin/keys/${needId()}`)
      break
    case 'rotate': {
      const grace = values['grace-period'] === undefined ? 0 : Number(values['grace-period'])
      if (!Number.isInteger(grace) || grace < 0) throw new UsageError('--grace-period takes a whole number of seconds')
      result = await call(url, 'POST', `/admin/keys/${needId()}/rotate`, { gracePeriodSeconds: grace })
      break
    }
    default:
      throw new UsageError(`unknown command ${command}`)
  }
  if (values.json) return console.log(JSON.stringify(result, null, 2))
  if (command === 'list') {
    const keys = result.data as KeyView[]
    console.log(
      keys.length ? keys.map(describe).join('\n\n') : 'No keys yet: npm run keys -- create --name … --scopes …'
    )
    return
  }
  console.log(describe(result))
  if (result.key) printSecret(result)
}

main(process.argv.slice(2)).catch((err: Error) => {
  console.error(`keys: ${err.message}`)
  if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error('\n' + USAGE)
    process.exitCode = 2
  } else {
    process.exitCode = 1
  }
})
