/**
 * The Node-side typecheck (tsconfig.node.json) has no Workers types, but the bench reaches D1
 * through Miniflare's proxy, which speaks the Workers D1 API. Only what the bench and
 * src/db/client.ts use is declared here.
 */
declare global {
  interface D1Result<T = Record<string, unknown>> {
    results: T[]
    meta: Record<string, unknown>
  }
  interface D1PreparedStatement {
    bind(...values: unknown[]): D1PreparedStatement
    run(): Promise<D1Result>
    all<T = Record<string, unknown>>(): Promise<D1Result<T>>
  }
  interface D1Database {
    prepare(query: string): D1PreparedStatement
  }
}
export {}
