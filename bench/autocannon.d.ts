/** The part of autocannon 9's API the bench uses (the package ships no types). */
declare module 'autocannon' {
  type Request = { method?: string; path?: string; headers?: Record<string, string>; body?: string }
  namespace autocannon {
    type Options = {
      url: string
      connections?: number
      duration?: number
      amount?: number
      requests?: (Request & { setupRequest?: (request: Request) => Request })[]
    }
    type Histogram = { p50: number; p99: number; average: number; total: number }
    type Result = {
      latency: Histogram
      requests: Histogram
      errors: number
      timeouts: number
      non2xx: number
    }
  }
  function autocannon(
    options: autocannon.Options,
    done: (err: Error | null, result: autocannon.Result) => void
  ): unknown
  export default autocannon
}
