/** Secrets the test worker is configured with; the leak tests search every output for them. */
export const TEST_EXA_API_KEY = 'exa_test_5ecret_upstream_key_do_not_leak_0001'
export const TEST_ADMIN_TOKEN = 'admin_test_5ecret_token_do_not_leak_0002'
export const SIMULATOR_ORIGIN = 'http://exa.test'
export const OBSERVER_ORIGIN = 'http://log-observer.test'
