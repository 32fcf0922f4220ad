import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'

export const MAX_BODY_BYTES = 64 * 1024

/** Reads at most `limit` bytes; a body over it is refused without reading the rest. */
async function readCapped(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (declared > limit) throw tooLarge(limit)
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw tooLarge(limit)
    }
    chunks.push(value)
  }
  return new Uint8Array(await new Blob(chunks).arrayBuffer())
}

const tooLarge = (limit: number) => new ApiError('PAYLOAD_TOO_LARGE', `request body is larger than ${limit / 1024} KiB`)

const invalidBody = (message: string) => new ApiError('INVALID_REQUEST_BODY', message)

/**
 * Finds the first object key that would make the parsed value differ from what was sent: a key
 * twice in one object (JSON.parse keeps the last silently) or `__proto__` (which validators drop).
 * Runs only on text JSON.parse accepted, so it can skip everything but strings and brackets.
 */
export function findAmbiguousKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = []
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (ch === '{') stack.push(new Set())
    else if (ch === '[') stack.push(null)
    else if (ch === '}' || ch === ']') stack.pop()
    else if (ch === '"') {
      let end = i + 1
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      let next = end + 1
      while (/\s/.test(text[next]!)) next++
      const keys = stack[stack.length - 1]
      if (text[next] === ':' && keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string
        if (keys.has(key)) return `key "${key}" appears twice in one object`
        if (key === '__proto__') return 'key "__proto__" is not allowed'
        keys.add(key)
      }
      i = end
    }
  }
  return undefined
}

function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json'
}

/** The checked text of each request's body: it is read once, by whichever asks first. */
const bodyTexts = new WeakMap<Request, Promise<string>>()

/**
 * The body as strict JSON text: size limit (413), JSON media type (415), UTF-8, syntax and
 * duplicate keys (400). An empty body counts as `{}`, which is what exa-py sends for
 * `update(id, {})`. Read once per request: a read started ahead of admission (routes/changes.ts)
 * validates the same text the route then does.
 */
export function jsonText(c: Context<AppEnv>, limit = MAX_BODY_BYTES): Promise<string> {
  let text = bodyTexts.get(c.req.raw)
  if (!text) bodyTexts.set(c.req.raw, (text = checkedJsonText(c, limit)))
  return text
}

async function checkedJsonText(c: Context<AppEnv>, limit: number): Promise<string> {
  const bytes = await readCapped(c.req.raw, limit)
  if (bytes.byteLength === 0) return '{}'
  if (!isJsonMediaType(c.req.header('content-type'))) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the body as JSON with content-type: application/json')
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw invalidBody('request body is not valid UTF-8')
  }
  if (text.trim() === '') return '{}'
  try {
    JSON.parse(text)
  } catch {
    throw invalidBody('request body is not valid JSON')
  }
  const ambiguity = findAmbiguousKey(text)
  if (ambiguity !== undefined) throw invalidBody(ambiguity)
  return text
}

/** Reads the body as strict JSON (see jsonText) and hands it to `zv('json', …)` through Hono's body cache. */
export const jsonBody = (limit = MAX_BODY_BYTES) =>
  createMiddleware<AppEnv>(async function jsonBody(c, next) {
    const text = await jsonText(c, limit)
    // zValidator reads the body only under a JSON content type; without one it validates `{}`,
    // which is exactly what an empty body means here.
    // Hono stores promises here at run time although its type says string.
    c.req.bodyCache.text = Promise.resolve(text) as unknown as string
    await next()
  })
