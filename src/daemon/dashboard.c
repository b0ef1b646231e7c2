/* dashboard.c — the page at GET /: budgets, what they have used and what is left, refreshed
 * every few seconds. The page is open; the data behind it needs a token, which the page asks
 * for and keeps in the browser's local storage. */
#include "daemon.h"

/* The content security policy the page is served with: only its own script and style run
 * (their SHA-256, base64; tests/daemon/routes.sh checks them against the page, so a change to
 * either fails there until these are changed too), it reaches only this origin, and no page
 * may frame it. */
const char abd_dashboard_csp[] =
    "default-src 'none'; script-src 'sha256-7kNYT+vuVh6W9xs4eJwsjBEAS3HDFIzKZrAnpPpn2tY='; "
    "style-src 'sha256-HQSjnXjnAvDknzQ770EMZ1qFFuMA6naFDb6ycExb3eA='; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const char abd_dashboard_html[] =
    "<!doctype html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>agentbudget</title>\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<style>\n"
    "body{font:14px system-ui,sans-serif;margin:2em;color:#222}\n"
    "h1{font-size:1.3em}table{border-collapse:collapse;width:100%}\n"
    "th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #ddd}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".bar{background:#eee;width:8em;height:.7em;display:inline-block}\n"
    ".bar i{display:block;height:100%;background:#3a7}.bar i.hot{background:#c33}\n"
    "#err{color:#c33}input{width:32em}\n"
    "</style></head><body>\n"
    "<h1>agentbudget</h1>\n"
    "<p><label>Token <input id=\"tok\" type=\"password\" placeholder=\"abt_…\"></label>\n"
    "<button id=\"save\">Use</button> <span id=\"err\"></span></p>\n"
    "<table><thead><tr><th>budget</th><th>role</th><th>limit</th><th>used</th>"
    "<th>held</th><th>left</th><th></th><th>blocked</th></tr></thead>\n"
    "<tbody id=\"rows\"></tbody></table>\n"
    "<script>\n"
    "const $=id=>document.getElementById(id);\n"
    "$('tok').value=localStorage.getItem('abtoken')||'';\n"
    "$('save').onclick=()=>{localStorage.setItem('abtoken',$('tok').value);load();};\n"
    "function cell(t,cls){const td=document.createElement('td');td.textContent=t;"
    "if(cls)td.className=cls;return td;}\n"
    "function money(v,m){return m==='usd'?'$'+v:String(v);}\n"
    "async function load(){\n"
    " const t=localStorage.getItem('abtoken');if(!t){$('err').textContent='a token is "
    "needed';return;}\n"
    " try{const r=await fetch('/v1/budgets',{headers:{Authorization:'Bearer '+t}});\n"
    "  const j=await r.json();if(!r.ok){$('err').textContent=j.error.message;return;}\n"
    "  $('err').textContent='';const rows=$('rows');rows.replaceChildren();\n"
    "  for(const b of j.budgets){const ls=b.limits.length?b.limits:[null];\n"
    "   for(const l of ls){const tr=document.createElement('tr');\n"
    "    tr.append(cell(b.agent_id),cell(b.role));\n"
    "    if(l){tr.append(cell(l.spec),cell(money(l.used,l.metric),'n'),"
    "cell(money(l.held,l.metric),'n'),cell(money(l.remaining,l.metric),'n'));\n"
    "     const lim=l.metric==='usd'?l.limit_nusd:l.limit,u=l.metric==='usd'?"
    "l.used_nusd+l.held_nusd:l.used+l.held;\n"
    "     const p=lim>0?Math.min(100,100*u/lim):100,td=document.createElement('td');\n"
    "     td.innerHTML='<span class=\"bar\"><i></i></span>';const i=td.querySelector('i');\n"
    "     i.style.width=p+'%';if(p>=90)i.className='hot';tr.append(td);}\n"
    "    else tr.append(cell('none'),cell(''),cell(''),cell(''),cell(''));\n"
    "    tr.append(cell(String(b.operations_blocked),'n'));rows.append(tr);}}\n"
    " }catch(e){$('err').textContent=String(e);}\n"
    "}\n"
    "load();setInterval(load,5000);\n"
    "</script></body></html>\n";
