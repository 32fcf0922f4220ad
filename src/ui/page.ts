import { AUDIT_ACTIONS } from '../audit/filters'

const options = (values: readonly string[]) => values.map((v) => `<option value="${v}">${v}</option>`).join('')

/**
 * The viewer's page: static markup only. No data is ever put into this HTML; the script fills
 * it in with textContent. No inline script, style or event handler (the CSP forbids them).
 */
export const VIEWER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Audit log · exa-imports-gateway</title>
<link rel="stylesheet" href="/ui/app.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="bar">
  <h1>Audit log <span class="sub">exa-imports-gateway</span></h1>
  <div id="session" class="session" hidden>
    <span id="chain" class="badge" role="status" aria-live="polite"></span>
    <span id="who" class="who"></span>
    <button id="forget" type="button" class="quiet">Forget key</button>
  </div>
</header>
<main id="main">
  <section id="login" class="card login" aria-labelledby="login-title">
    <h2 id="login-title">Open the audit log</h2>
    <form id="key-form" novalidate>
      <label for="key">Gateway key with the <code>audit:read</code> scope</label>
      <div class="row">
        <input id="key" name="key" type="password" autocomplete="off" spellcheck="false" placeholder="egw_…" required>
        <button type="submit" class="primary">Open</button>
      </div>
      <p class="hint">The key stays in this tab's session storage and is sent only to this gateway, in <code>x-api-key</code>. It is forgotten when the tab closes.</p>
      <p id="key-error" class="error" role="alert" hidden></p>
    </form>
  </section>
  <section id="viewer" hidden>
    <form id="filters" class="card filters" aria-label="Filters" novalidate>
      <div class="field"><label for="f-importId">Import id</label><input id="f-importId" name="importId" placeholder="import_…" autocomplete="off"></div>
      <div class="field"><label for="f-actor">Actor (key name)</label><input id="f-actor" name="actor" autocomplete="off"></div>
      <div class="field"><label for="f-keyId">Key id</label><input id="f-keyId" name="keyId" placeholder="key_…" autocomplete="off"></div>
      <div class="field"><label for="f-field">Changed field</label><input id="f-field" name="field" list="fields" placeholder="title, metadata.owner" autocomplete="off"></div>
      <div class="field"><label for="f-action">Action</label><select id="f-action" name="action"><option value="">any</option>${options([...AUDIT_ACTIONS, 'key.*'])}</select></div>
      <div class="field"><label for="f-outcome">Outcome</label><select id="f-outcome" name="outcome"><option value="">any</option>${options(['succeeded', 'failed', 'pending'])}</select></div>
      <div class="field"><label for="f-since">Since (local time)</label><input id="f-since" name="since" type="datetime-local" step="1"></div>
      <div class="field"><label for="f-until">Until (local time)</label><input id="f-until" name="until" type="datetime-local" step="1"></div>
      <datalist id="fields"><option value="title"></option><option value="metadata"></option></datalist>
      <div class="buttons">
        <button type="submit" class="primary">Apply filters</button>
        <button type="button" id="clear">Clear</button>
        <span class="spacer"></span>
        <button type="button" id="export-ndjson">Export NDJSON</button>
        <button type="button" id="export-csv">Export CSV</button>
      </div>
    </form>
    <p id="list-error" class="error" role="alert" hidden></p>
    <p id="notice" class="notice" role="status" hidden></p>
    <div class="split">
      <div class="card list">
        <p id="count" class="count" role="status" aria-live="polite"></p>
        <table id="events">
          <caption class="sr-only">Audit events, newest first</caption>
          <thead><tr><th scope="col">Time</th><th scope="col">Action</th><th scope="col">Import</th><th scope="col">Actor</th><th scope="col">Outcome</th><th scope="col">Changed</th></tr></thead>
          <tbody></tbody>
        </table>
        <p id="empty" class="empty" hidden>No audit events match these filters.</p>
        <button id="more" type="button" hidden>Load more</button>
      </div>
      <section id="detail" class="card detail" aria-labelledby="detail-title" tabindex="-1" hidden></section>
    </div>
  </section>
</main>
<dialog id="confirm" aria-labelledby="confirm-title">
  <h2 id="confirm-title">Revert this change?</h2>
  <p id="confirm-text"></p>
  <table class="diff compact"><thead><tr><th scope="col">Field</th><th scope="col">Now</th><th scope="col">After the revert</th></tr></thead><tbody id="confirm-changes"></tbody></table>
  <p id="confirm-error" class="error" role="alert" hidden></p>
  <div class="buttons">
    <button type="button" id="confirm-cancel">Cancel</button>
    <span class="spacer"></span>
    <button type="button" id="confirm-force" class="danger" hidden>Overwrite the later changes</button>
    <button type="button" id="confirm-ok" class="danger">Revert</button>
  </div>
</dialog>
</body>
</html>
`
