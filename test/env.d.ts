declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[]
    EXA_API_KEY: string
    ADMIN_TOKEN: string
    /** docs/routes.md's text: the route matrix checks every route is in its route table. */
    TEST_ROUTES: string
  }
}

declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import('../src/index')
  }
}
