/**
 * GET /_kvdb/status: one self-contained HTML page (no external asset, no build step).
 * Its script reads /_kvdb/status.json every 2 s and redraws; every value goes in
 * through textContent, so no volume name or error text is ever parsed as HTML.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kvdb status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em; color: #222; }
  h1 { font-size: 1.4em; margin: 0 0 .5em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  #banner { padding: .8em 1em; border-radius: 6px; font-weight: 600; }
  #banner.ok { background: #dff5e1; color: #14532d; }
  #banner.degraded { background: #fff4d6; color: #713f12; }
  #banner.failing { background: #fde2e2; color: #7f1d1d; }
  #banner.unknown { background: #eee; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.down td { background: #fdecec; }
  .state-up { color: #15803d; font-weight: 600; } .state-down { color: #b91c1c; font-weight: 600; }
  .bar { display: inline-block; width: 120px; height: .8em; background: #e5e7eb; border-radius: 3px; vertical-align: middle; margin-right: .4em; }
  .bar > span { display: block; height: 100%; background: #3b82f6; border-radius: 3px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1.2em; margin: 0; }
  dt { color: #555; } dd { margin: 0; }
  .small { color: #666; font-size: .9em; }
</style>
</head>
<body>
<h1>kvdb master</h1>
<div id="banner" class="unknown">loading…</div>
<h2>Volumes</h2>
<table id="volumes"><thead><tr><th>volume</th><th>zone</th><th>state</th><th>last answer</th><th>latency</th><th>used / total</th><th>keys</th><th>runtime</th></tr></thead><tbody></tbody></table>
<h2>Capacity</h2><dl id="capacity"></dl>
<h2>Replication</h2><dl id="replication"></dl>
<h2>Traffic</h2><dl id="traffic"></dl>
<h2>Jobs running</h2><div id="jobs"></div>
<h2>Configuration</h2><dl id="config"></dl>
<p class="small" id="updated"></p>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; }
function bytes(n) { const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0; while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; } return (i ? n.toFixed(1) : n) + " " + u[i]; }
function ago(ms) { if (!ms) return "never"; const s = Math.round((Date.now() - ms) / 1000); return s < 1 ? "just now" : s + " s ago"; }
function pct(x) { return (100 * x).toFixed(1) + "%"; }
function secs(s) { return s === null ? "–" : s < 1 ? (s * 1000).toFixed(1) + " ms" : s.toFixed(2) + " s"; }
function list(id, pairs) { const dl = $(id); dl.replaceChildren(); for (const [k, v] of pairs) { dl.append(el("dt", k), el("dd", v)); } }
function bar(used, total) { const b = el("span", undefined, "bar"); const f = el("span"); f.style.width = total ? Math.min(100, 100 * used / total).toFixed(1) + "%" : "0"; b.append(f); return b; }
function job(j) { if (!j) return "none since the master started"; const when = j.finished ? ago(j.finished) : "running"; return j.kind + (j.repair ? " --repair" : "") + ": " + (j.summary || j.state) + " (" + when + ")"; }
function render(s) {
  const banner = $("banner"); banner.className = s.health.state; banner.dataset.state = s.health.state;
  banner.textContent = s.health.state.toUpperCase() + ": " + s.health.message;
  const rows = s.volumes.map((v) => {
    const tr = el("tr", undefined, v.up ? "up" : "down"); tr.dataset.volume = v.name; tr.dataset.state = v.up ? "up" : "down";
    const used = el("td"); used.append(bar(v.total - v.free, v.total), bytes(v.total - v.free) + " / " + bytes(v.total));
    tr.append(el("td", v.name), el("td", v.zone), el("td", v.up ? "up" : "down: " + v.error, v.up ? "state-up" : "state-down"),
      el("td", ago(v.lastAnswer)), el("td", v.up ? v.latencyMs + " ms" : "–", "num"), used, el("td", v.keys, "num"),
      el("td", v.runtime ? v.runtime + " " + v.version : "–"));
    return tr;
  });
  $("volumes").tBodies[0].replaceChildren(...rows);
  const c = s.capacity;
  list("capacity", [["free", bytes(c.free) + " of " + bytes(c.total) + " on the volumes up"], ["volumes up", c.volumesUp + " of " + c.volumes + " (" + c.zones + " zones)"]]);
  const r = s.replication, k = r.keys;
  list("replication", [["keys", k.live + " live, " + k.unlinked + " unlinked, " + k.writing + " writing, " + k.deleting + " deleting"],
    ["replicas owed a delete", r.owedDelete], ["keys owed replicas", r.underReplicated], ["operations in flight or interrupted", r.pending],
    ["abandoned values (last verify)", r.lastVerify ? (r.lastVerify.counts.abandoned || 0) : "not verified yet"],
    ["last verify", job(r.lastVerify)], ["last rebalance", job(r.lastRebalance)], ["last S3 lifecycle run", job(r.lastLifecycle)]]);
  const t = s.traffic;
  list("traffic", [["requests/s", t.requestsPerSecond + " (last " + t.windowSeconds + " s)"], ["errors (5xx)", pct(t.errorRate)], ["p50 / p99", secs(t.p50) + " / " + secs(t.p99)]]);
  const jobs = $("jobs"); jobs.replaceChildren(...(s.jobs.length ? s.jobs.map((j) => { const d = el("div", j.kind + ": " + j.done + " of " + j.total + " keys, " + j.rate + "/s, ETA " + j.eta + " s "); const p = el("progress"); p.max = j.total || 1; p.value = j.done; d.append(p); return d; }) : [el("span", "none", "small")]));
  const g = s.config;
  list("config", [["replicas", g.replicas + (g.minReplicas < g.replicas ? " (" + g.minReplicas + " acknowledge a write)" : "")], ["secret", g.secret ? "on" : "OFF: volumes accept writes from anyone"], ["proxy", g.proxy ? "on" : "off"],
    ["version", g.version + " on " + g.runtime], ["uptime", g.uptimeSeconds + " s"]]);
  $("updated").textContent = "updated " + new Date().toLocaleTimeString() + "; refreshes every 2 s";
}
async function refresh() {
  try {
    const res = await fetch("/_kvdb/status.json", { cache: "no-store" });
    if (!res.ok) throw new Error("status.json answered " + res.status);
    render(await res.json());
  } catch (e) {
    const b = $("banner"); b.className = "failing"; b.dataset.state = "unreachable"; b.textContent = "master not answering: " + e.message;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
