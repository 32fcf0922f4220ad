import { expect } from 'vitest'
import { api } from './gateway'
import { OBSERVER_ORIGIN, TEST_ADMIN_TOKEN } from './secrets'

/** Tells the log observer about a secret, so the final log-leak check looks for it too. */
export async function rememberSecret(secret: string) {
  await fetch(`${OBSERVER_ORIGIN}/secrets`, { method: 'POST', body: secret })
}

/** A call to the admin API with the bootstrap token (or another admin credential). */
export function admin(method: string, path: string, body?: unknown, credential = TEST_ADMIN_TOKEN): Promise<Response> {
  return api(path, {
    method,
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

export type IssuedKey = { id: string; key: string; name: string; scopes: string[] }

/** Issues a client key through the real admin API. */
export async function issueKey(
  scopes: string[] = ['imports:read', 'imports:write', 'audit:read'],
  extra: Record<string, unknown> = {}
): Promise<IssuedKey> {
  const name = (extra.name as string | undefined) ?? `tester-${crypto.randomUUID().slice(0, 8)}`
  const res = await admin('POST', '/admin/keys', { name, scopes, ...extra })
  if (res.status !== 201) throw new Error(`issueKey: ${res.status} ${await res.text()}`)
  const issued = (await res.json()) as IssuedKey
  await rememberSecret(issued.key)
  return issued
}

export type KeyView = Record<string, any> & { id: string; prefix: string; status: string }

export async function getKey(id: string): Promise<KeyView> {
  const res = await admin('GET', `/admin/keys/${id}`)
  expect(res.status).toBe(200)
  return res.json()
}
