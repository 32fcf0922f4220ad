import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Collects everything the worker and the tests print during the run (vitest's onConsoleLog), and
 * the client keys the tests issue. `test/log-leaks.test.ts`, which runs last, reads both through
 * `OBSERVER_ORIGIN` (served by the outboundService) and checks that no secret was ever logged.
 */
export function createLogObserver() {
  const lines: string[] = []
  const secrets = new Set<string>()
  return {
    /** Keeps every line for the leak check; prints all but the access log (one line a request). */
    onConsoleLog(log: string): false | void {
      lines.push(log)
      if (log.startsWith('{"level":"info","msg":"request"')) return false
    },
    async fetch(request: Request): Promise<Response> {
      const { pathname } = new URL(request.url)
      if (pathname === '/secrets' && request.method === 'POST') {
        secrets.add(await request.text())
        return new Response(null, { status: 204 })
      }
      if (pathname === '/collected') return Response.json({ lines, secrets: [...secrets] })
      return new Response('not found', { status: 404 })
    },
  }
}

/** Runs the log-leak check after every other test file. */
export class LogLeaksLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]) {
    const sorted = await super.sort(files)
    const isLast = (f: TestSpecification) => f.moduleId.endsWith('log-leaks.test.ts')
    return [...sorted.filter((f) => !isLast(f)), ...sorted.filter(isLast)]
  }
}
