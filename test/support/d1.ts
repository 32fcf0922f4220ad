import { env } from 'cloudflare:workers'
import { createDb } from '../../src/db/client'

/** The gateway's own D1 handle on this test file's database (storage is per file). */
export const db = () => createDb(env.DB)

export async function countRows(table: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>()
  return row!.n
}
