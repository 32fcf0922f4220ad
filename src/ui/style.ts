/** The viewer's stylesheet: plain CSS, served as /ui/app.css (the CSP allows no inline style). */
export const VIEWER_STYLE = `
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f6f8fa}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
h1{font-size:17px;margin:0}h2{font-size:15px;margin:0}
.sub{font-weight:400;color:#59636e;margin-left:6px}
.bar{display:flex;align-items:center;justify-content:space-between;gap:16px;padding:12px 24px;background:#fff;border-bottom:1px solid #d1d9e0}
.session{display:flex;align-items:center;gap:12px}
.who{color:#59636e}
main{max-width:1440px;margin:0 auto;padding:20px 24px}
.card{background:#fff;border:1px solid #d1d9e0;border-radius:8px;padding:16px}
.login{max-width:560px;margin:48px auto}.login h2{margin-bottom:12px}
.row{display:flex;gap:8px;margin-top:6px}.row input{flex:1}
.hint{color:#59636e;font-size:12.5px;margin:8px 0 0}
label{display:block;font-size:12px;font-weight:600;color:#59636e;margin-bottom:4px}
input,select{width:100%;height:32px;font:inherit;padding:6px 8px;border:1px solid #d1d9e0;border-radius:6px;background:#fff;color:inherit}
.filters{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px 16px}
.buttons{grid-column:1/-1;display:flex;gap:8px;align-items:center}
.spacer{flex:1}
button{font:inherit;padding:6px 14px;border:1px solid #d1d9e0;border-radius:6px;background:#f6f8fa;color:#1f2328;cursor:pointer}
button:hover{background:#eef1f4}button:disabled{opacity:.55;cursor:default}
button.primary{background:#0969da;border-color:#0969da;color:#fff}button.primary:hover{background:#0757b8}
button.danger{color:#cf222e;border-color:#e7b3b6}button.danger:hover{background:#cf222e;color:#fff}
button.quiet{background:none}
button.link{background:none;border:0;padding:0;color:#0969da;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;white-space:nowrap}
button.link:hover{text-decoration:underline}
:focus-visible{outline:2px solid #0969da;outline-offset:2px}
.split{display:flex;gap:16px;align-items:flex-start;margin-top:16px}
.list{flex:3;min-width:0;padding:0 0 8px}.detail{flex:2;min-width:0;position:sticky;top:16px}
.count{margin:0;padding:12px 16px;color:#59636e;font-size:12.5px;border-bottom:1px solid #d1d9e0}
.count:empty{display:none}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-size:11.5px;font-weight:600;text-transform:uppercase;letter-spacing:.03em;color:#59636e;padding:8px 12px;border-bottom:1px solid #d1d9e0}
td{padding:8px 12px;border-bottom:1px solid #eef1f4;vertical-align:middle;overflow-wrap:anywhere}
#events tbody tr{cursor:pointer}#events tbody tr:hover{background:#f6f8fa}#events tbody tr.selected{background:#ddf4ff}
.empty{padding:32px 16px;text-align:center;color:#59636e;margin:0}
#more{margin:12px 16px 4px}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:500;background:#eef1f4}
.pill.succeeded{background:#dafbe1;color:#116329}.pill.failed{background:#ffebe9;color:#a40e26}.pill.pending{background:#fff8c5;color:#7d4e00}
.badge{font-size:12.5px;padding:3px 10px;border-radius:999px;background:#eef1f4;color:#59636e}
.badge.ok{background:#dafbe1;color:#116329}.badge.bad{background:#ffebe9;color:#a40e26}
.detail-head{display:flex;align-items:center;gap:10px;margin-bottom:12px}.detail-head h2{flex:1;overflow-wrap:anywhere}
.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:4px 16px;margin:0 0 16px;font-size:13px}
.facts dt{color:#59636e}.facts dd{margin:0;overflow-wrap:anywhere}
.diff{table-layout:fixed;border:1px solid #d1d9e0;border-radius:6px;border-collapse:separate;border-spacing:0;overflow:hidden}
.diff caption{text-align:left;font-weight:600;padding:0 0 6px}
.diff td{font-size:13px;white-space:pre-wrap;vertical-align:top}
.diff thead th:first-child{width:32%}
.diff td.none{color:#8c959f;font-style:italic}
.diff tr.changed td.old{background:#ffebe9}.diff tr.changed td.new{background:#dafbe1}
.diff tr.changed th{color:#1f2328}
.diff tbody th{text-transform:none;letter-spacing:0;font-size:12.5px;font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:500;border-bottom:1px solid #eef1f4}
.tag{display:inline-block;margin-left:6px;padding:0 6px;border-radius:4px;font:600 10.5px system-ui,sans-serif;background:#fff1c2;color:#7d4e00;text-transform:uppercase}
.revert{margin-top:16px;display:flex;gap:8px;align-items:center}
.error{color:#a40e26;background:#ffebe9;border:1px solid #f5c2c7;border-radius:6px;padding:8px 12px;margin:12px 0 0}
.notice{color:#116329;background:#dafbe1;border:1px solid #aceebb;border-radius:6px;padding:8px 12px;margin:12px 0 0}
dialog{border:0;border-radius:10px;padding:20px;max-width:600px;width:calc(100% - 32px);box-shadow:0 12px 40px rgba(0,0,0,.25)}
dialog::backdrop{background:rgba(31,35,40,.4)}
dialog .buttons{margin-top:16px}dialog p{margin:8px 0 12px}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:6px 10px;z-index:1}
@media (max-width:960px){.split{flex-direction:column}.detail{position:static}.filters{grid-template-columns:repeat(2,minmax(0,1fr))}}
`
