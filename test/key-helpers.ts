import { env } from 'cloudflare:workers'
import { expect } from 'vitest'
import { api } from './helpers'
import { TEST_ADMIN_TOKEN } from './secrets'

/** A call to the admin API with the bootstrap token (or another admin credential). */
export function admin(method: string, path: string, body?: unknown, credential = TEST_ADMIN_TOKEN): Promise<Response> {
  return api(path, {
    method,
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

export type KeyView = Record<string, any> & { id: string; prefix: string; status: string }

export async function getKey(id: string): Promise<KeyView> {
  const res = await admin('GET', `/admin/keys/${id}`)
  expect(res.status).toBe(200)
  return res.json()
}

/** Asserts our error shape (DESIGN §4) and returns the body. */
export async function expectError(res: Response, status: number, tag: string, message?: RegExp) {
  expect(res.status).toBe(status)
  const body = (await res.json()) as { error: string; tag: string; requestId: string }
  expect(body.tag).toBe(tag)
  expect(body.requestId).toBe(res.headers.get('x-request-id'))
  if (message) expect(body.error).toMatch(message)
  return body
}

export const withKey = (key: string, headers: Record<string, string> = {}): RequestInit => ({ headers: { 'x-api-key': key, ...headers } })

export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export async function countRows(table: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>()
  return row!.n
}

/** Waits for work the gateway does after answering (waitUntil), checking `done` until it holds. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, attempts = 100): Promise<T> {
  let value = await read()
  for (let i = 0; i < attempts && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    value = await read()
  }
  return value
}
