// wiretally's report page (issue #16). One script for both uses:
// - the HTML report (`analyze --format html`): the report's JSON is embedded in #wiretally-report;
// - the live dashboard: the element holds null, and the page reads /api/report every few seconds.
// It draws with uPlot (inlined at build time); everything else is plain DOM.
"use strict";

(function () {
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1f77b4", "#17becf", "#bcbd22", "#8c564b", "#d62728", "#2ca02c"];
  const OTHERS = "(others)";
  const SERIES_SHOWN = 12;       // series drawn; the rest are summed into (others)
  const LIVE_REFRESH_MS = 3000;
  const ROWS_DRAWN = 500;        // table rows drawn before "show all"

  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined) e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  };

  // 1000-based units, as the table report prints them.
  function bytesText(n) {
    if (n === null || n === undefined) return "";
    const units = ["B", "kB", "MB", "GB", "TB"];
    let v = n, u = 0;
    while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
    return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
  }
  const countText = (n) => (n === null || n === undefined ? "" : Number(n).toLocaleString("en-US"));
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  // decimals: digits after the seconds (axes whose ticks are less than a second apart).
  function timeText(epochS, withDate, decimals) {
    if (epochS === null || epochS === undefined) return "";
    const d = new Date(Math.round(epochS * 1000));
    let t = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    if (decimals) t += "." + pad(d.getUTCMilliseconds(), 3).slice(0, decimals);
    return withDate ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${t} UTC` : t;
  }
  const colour = (i) => PALETTE[i % PALETTE.length];
  // uPlot's axis values: as many decimals of a second as the ticks' spacing needs.
  const timeAxis = (u, vals, axis, space, incr) => vals.map((v) => timeText(v, false, incr >= 1 ? 0 : incr >= 0.1 ? 1 : incr >= 0.01 ? 2 : 3));
  const keysText = (obj) => Object.entries(obj || {}).sort((a, b) => b[1] - a[1]).map(([k]) => k).join(", ");

  // ---- tables: sortable by any column, filtered by a text box --------------------------------------
  // columns: [{title, value(row) -> number|string|null, text(row)? , numeric?}]
  // What a person chose on the page (filters, sort orders, the series shown), kept across the live
  // dashboard's redraws.
  const chosen = new Map();

  function table(id, title, columns, rows, note) {
    const section = el("section", { id, class: "table-section" });
    const kept = chosen.get(id) || {};
    const filter = el("input", { type: "search", placeholder: "filter", "aria-label": `filter ${title}`, value: kept.filter || "" });
    const count = el("span", { class: "count" });
    section.append(el("h2", { text: title }), el("div", { class: "table-tools" }, filter, count));
    if (note) section.append(el("p", { class: "note", text: note }));
    const thead = el("thead");
    const tbody = el("tbody");
    const tbl = el("table", { class: "data" }, thead, tbody);
    section.append(el("div", { class: "table-wrap" }, tbl));
    let sortColumn = kept.sortColumn ?? -1, descending = kept.descending ?? true;
    const headRow = el("tr");
    columns.forEach((c, i) => {
      const th = el("th", { text: c.title, class: c.numeric ? "num" : "", "data-column": c.key || c.title,
        title: "sort", onclick: () => {
          descending = sortColumn === i ? !descending : c.numeric !== false;
          sortColumn = i;
          render();
        } });
      headRow.append(th);
    });
    thead.append(headRow);
    const cells = rows.map((r) => columns.map((c) => {
      const v = c.value(r);
      return { v, text: c.text ? c.text(r) : (c.numeric ? countText(v) : (v === null || v === undefined ? "" : String(v))) };
    }));
    const searchText = cells.map((cs) => cs.map((c) => c.text).join(" ").toLowerCase());
    // Rows drawn at first: a page of 5000-row tables would take seconds to lay out; the rest on demand.
    let limit = kept.limit ?? ROWS_DRAWN;
    const more = el("button", { type: "button", class: "more", hidden: "", onclick: () => { limit = Infinity; render(); } });
    section.append(more);
    function render() {
      chosen.set(id, { filter: filter.value, sortColumn, descending, limit });
      const q = filter.value.trim().toLowerCase();
      let order = rows.map((_, i) => i).filter((i) => q === "" || searchText[i].includes(q));
      if (sortColumn >= 0) {
        order.sort((a, b) => {
          const x = cells[a][sortColumn].v, y = cells[b][sortColumn].v;
          if (x === y) return 0;
          if (x === null || x === undefined) return 1;
          if (y === null || y === undefined) return -1;
          const d = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
          return descending ? -d : d;
        });
      }
      const shown = order.length > limit ? order.slice(0, limit) : order;
      more.hidden = shown.length === order.length;
      more.textContent = `show all ${countText(order.length)} rows`;
      tbody.replaceChildren(...shown.map((i) => el("tr", { "data-row": i },
        ...cells[i].map((c, k) => el("td", {
          class: columns[k].numeric ? "num" : "",
          "data-value": typeof c.v === "number" ? String(c.v) : null,
          title: columns[k].title_of ? columns[k].title_of(rows[i]) : null,
          text: c.text,
        })))));
      const matching = order.length === rows.length ? `${countText(rows.length)} rows` : `${countText(order.length)} of ${countText(rows.length)} rows`;
      count.textContent = shown.length < order.length ? `${matching}, the first ${countText(shown.length)} shown` : matching;
    }
    filter.addEventListener("input", render);
    render();
    return section;
  }

  const bytesColumns = (r) => [
    { title: "bytes down", key: "bytes_down", numeric: true, value: (x) => x.bytes_down, text: (x) => bytesText(x.bytes_down), title_of: (x) => `${countText(x.bytes_down)} bytes` },
    { title: "bytes up", key: "bytes_up", numeric: true, value: (x) => x.bytes_up, text: (x) => bytesText(x.bytes_up), title_of: (x) => `${countText(x.bytes_up)} bytes` },
  ];
  const tlsColumns = () => [
    { title: "TLS", key: "tls_versions", value: (x) => keysText(x.tls_versions) },
    { title: "cipher", key: "ciphers", value: (x) => keysText(x.ciphers) },
  ];

  function leftOutNote(report, key, noun) {
    const n = report.left_out ? report.left_out[key] : 0;
    return n ? `The ${noun} with the least traffic are left out of this page: ${countText(n)} more (the JSON report has them all).` : null;
  }

  function tables(report) {
    const out = [];
    out.push(table("services", "Services", [
      { title: "service", key: "service", value: (x) => x.service ?? "(unclassified)" },
      { title: "category", key: "category", value: (x) => x.category },
      { title: "connections", key: "connections", numeric: true, value: (x) => x.connections },
      ...bytesColumns(),
      { title: "clients", key: "distinct_clients", numeric: true, value: (x) => x.distinct_clients },
      ...tlsColumns(),
      { title: "first seen", key: "first_seen", numeric: true, value: (x) => x.first_seen, text: (x) => timeText(x.first_seen, false, 1) },
    ], report.services || []));
    out.push(table("domains", "Domains", [
      { title: "domain", key: "domain", value: (x) => x.domain },
      { title: "service", key: "service", value: (x) => x.service },
      { title: "connections", key: "connections", numeric: true, value: (x) => x.connections },
      ...bytesColumns(),
      ...tlsColumns(),
      { title: "CNAME chain", key: "cnames", value: (x) => (x.cnames || []).join(" \u2192 ") },
      { title: "ECH", key: "ech", numeric: true, value: (x) => x.ech_real, text: (x) => (x.ech_real ? "real" : x.ech_grease ? "GREASE" : "") },
    ], report.domains || [], leftOutNote(report, "domains", "domains")));
    out.push(table("servers", "Servers", [
      { title: "address", key: "address", value: (x) => x.address },
      { title: "names", key: "names", value: (x) => (x.names || []).map((n) => n.name).filter((n) => n).join(", ") },
      { title: "flows", key: "flows", numeric: true, value: (x) => x.flows },
      ...bytesColumns(),
      { title: "AS", key: "asn", numeric: true, value: (x) => x.asn, text: (x) => (x.asn ? `AS${x.asn}` : "") },
      { title: "hosted by", key: "as_org", value: (x) => x.as_org },
      { title: "country", key: "country", value: (x) => x.country },
      { title: "scope", key: "scope", value: (x) => x.scope },
    ], report.servers || [], leftOutNote(report, "servers", "servers")));
    const actionRows = [];
    for (const a of report.actions || []) {
      for (const d of a.domains || []) actionRows.push(Object.assign({ action: a.action }, d));
    }
    if (actionRows.length) {
      out.push(table("actions", "Actions", [
        { title: "action", key: "action", value: (x) => x.action },
        { title: "domain", key: "name", value: (x) => x.name || x.server },
        { title: "new", key: "connections_new", numeric: true, value: (x) => x.connections_new },
        { title: "reused", key: "connections_reused", numeric: true, value: (x) => x.connections_reused },
        { title: "DNS", key: "dns_lookups", numeric: true, value: (x) => x.dns_lookups },
        ...bytesColumns(),
        ...tlsColumns(),
        { title: "notes", key: "notes", value: (x) => (x.notes || []).join("; ") },
      ], actionRows, leftOutNote(report, "action_rows", "action rows")));
    }
    const e = report.encrypted_dns;
    if (e) {
      const rows = [];
      for (const s of (e.dot && e.dot.servers) || []) {
        rows.push({ kind: "DNS over TLS", address: s.address, names: (s.names || []).join(", "), attempts: s.attempts, answered: s.answered, refused: s.refused, unanswered: s.unanswered });
      }
      for (const [kind, key] of [["DNS over HTTPS", "doh"], ["DNS over QUIC", "doq"]]) {
        for (const s of (e[key] && e[key].servers) || []) {
          rows.push({ kind, address: s.address || s.server || "", names: (s.names || []).join(", "), attempts: s.flows ?? null, answered: null, refused: null, unanswered: null });
        }
      }
      const sec = table("encrypted-dns", "Encrypted DNS", [
        { title: "kind", key: "kind", value: (x) => x.kind },
        { title: "server", key: "address", value: (x) => x.address },
        { title: "names", key: "names", value: (x) => x.names },
        { title: "attempts", key: "attempts", numeric: true, value: (x) => x.attempts },
        { title: "answered", key: "answered", numeric: true, value: (x) => x.answered },
        { title: "refused", key: "refused", numeric: true, value: (x) => x.refused },
        { title: "unanswered", key: "unanswered", numeric: true, value: (x) => x.unanswered },
      ], rows);
      const summary = el("ul", { class: "summary" }, ...(e.summary || []).map((s) => el("li", { text: s })));
      sec.insertBefore(summary, sec.querySelector(".table-tools"));
      out.push(sec);
    }
    out.push(table("devices", "Devices", [
      { title: "MAC", key: "mac", value: (x) => x.mac },
      { title: "vendor", key: "vendor", value: (x) => (x.randomized ? "(private address)" : x.vendor) },
      { title: "host name", key: "host_name", value: (x) => x.host_name },
      { title: "addresses", key: "addresses", value: (x) => (x.addresses || []).join(", ") },
      { title: "flows", key: "flows", numeric: true, value: (x) => x.flows },
      ...bytesColumns(),
      { title: "services", key: "services", value: (x) => (x.services || []).join(", ") },
    ], report.devices || [], leftOutNote(report, "devices", "devices")));
    return out;
  }

  // ---- the timeline: bytes per interval, stacked, by service or by name ------------------------------
  // The actions as labelled bands and the marks as lines (drawn in uPlot's draw hook, on its scales).
  function actionSpans(report) {
    const t = report.timeline;
    if (!t || !t.marks || !t.marks.length) return [];
    const end = report.input ? report.input.last_ts : t.start + t.intervals * t.interval_s;
    const marks = t.marks.slice().sort((a, b) => a.t - b.t);
    return marks.map((m, i) => ({ label: m.action, from: m.t, until: i + 1 < marks.length ? marks[i + 1].t : end }));
  }

  function bandsPlugin(spans) {
    return {
      hooks: {
        drawClear: [(u) => {
          const ctx = u.ctx;
          const top = u.bbox.top, height = u.bbox.height;
          ctx.save();
          spans.forEach((s, i) => {
            const x0 = u.valToPos(s.from, "x", true), x1 = u.valToPos(s.until, "x", true);
            ctx.fillStyle = i % 2 ? "rgba(78,121,167,0.08)" : "rgba(242,142,43,0.10)";
            ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
          });
          ctx.restore();
        }],
        draw: [(u) => {
          const ctx = u.ctx;
          const top = u.bbox.top, height = u.bbox.height;
          ctx.save();
          ctx.font = `${Math.round(11 * devicePixelRatio)}px sans-serif`;
          ctx.textBaseline = "top";
          ctx.textAlign = "left";
          spans.forEach((s) => {
            const x0 = u.valToPos(s.from, "x", true), x1 = u.valToPos(s.until, "x", true);
            ctx.strokeStyle = "rgba(60,60,60,0.8)";
            ctx.lineWidth = devicePixelRatio;
            ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
            ctx.beginPath(); ctx.moveTo(x0, top); ctx.lineTo(x0, top + height); ctx.stroke();
            ctx.fillStyle = "#333";
            const room = x1 - x0 - 6 * devicePixelRatio;
            if (room > 20) {
              let label = s.label;
              while (label.length > 1 && ctx.measureText(label).width > room) label = label.slice(0, -1);
              if (label !== s.label) label = label.slice(0, -1) + "\u2026";
              ctx.fillText(label, x0 + 3 * devicePixelRatio, top + 3 * devicePixelRatio);
            }
          });
          ctx.restore();
        }],
      },
    };
  }

  function seriesChoice(timeline, by, direction) {
    const list = by === "domain" ? timeline.domains : timeline.services;
    const value = (s, i) => (direction === "up" ? s.bytes_up[i] : direction === "down" ? s.bytes_down[i] : s.bytes_up[i] + s.bytes_down[i]);
    const shown = list.slice(0, SERIES_SHOWN);
    const rest = list.slice(SERIES_SHOWN);
    const n = timeline.intervals;
    const raw = shown.map((s) => Array.from({ length: n }, (_, i) => value(s, i)));
    const names = shown.map((s) => s.name);
    if (rest.length) {
      raw.push(Array.from({ length: n }, (_, i) => rest.reduce((sum, s) => sum + value(s, i), 0)));
      names.push(`${OTHERS}: ${rest.length} more`);
    }
    return { raw, names };
  }

  function timelineChart(report, box, by, direction, syncKey) {
    const t = report.timeline;
    const { raw, names } = seriesChoice(t, by, direction);
    const xs = Array.from({ length: t.intervals }, (_, i) => t.start + i * t.interval_s);
    // Stacked: series k is drawn at the sum of the first k+1; the legend shows each one's own value.
    const stacked = [];
    raw.forEach((r, k) => stacked.push(r.map((v, i) => v + (k ? stacked[k - 1][i] : 0))));
    const series = [{ label: "time (UTC)", value: (u, v) => (v === null ? "" : timeText(v, false, t.interval_s < 1 ? 2 : 0)) }];
    const bands = [];
    names.forEach((name, k) => {
      series.push({
        label: name, stroke: colour(k), fill: colour(k) + "99", width: 1, points: { show: false },
        paths: uPlot.paths.stepped({ align: 1 }),
        value: (u, v, si, i) => (i === null || i === undefined ? "" : bytesText(raw[si - 1][i])),
      });
      if (k > 0) bands.push({ series: [k + 1, k], fill: colour(k) + "99" });
    });
    const width = Math.max(600, box.clientWidth || 1000);
    const opts = {
      width, height: 320,
      cursor: { sync: { key: syncKey }, drag: { x: true, y: false } },
      scales: { x: { time: false } },
      axes: [
        { values: timeAxis, space: 80 },
        { values: (u, vals) => vals.map((v) => bytesText(v)), size: 70, label: `bytes per ${t.interval_s} s` },
      ],
      series, bands,
      plugins: [bandsPlugin(actionSpans(report))],
    };
    // uPlot's bands fill between stacked series; the first fills down to zero itself.
    series.forEach((s, i) => { if (i > 1) s.fill = undefined; });
    box.replaceChildren();
    return new uPlot(opts, [xs, ...stacked], box);
  }

  // ---- the flow lanes: one row per connection, from its first to its last packet --------------------
  function lanesChart(report, box, syncKey, tip) {
    const lanes = (report.flow_lanes && report.flow_lanes.flows) || [];
    const t = report.timeline;
    const x0 = t ? t.start : Math.min(...lanes.map((l) => l.first_ts));
    const x1 = t ? t.start + t.intervals * t.interval_s : Math.max(...lanes.map((l) => l.last_ts));
    const rowHeight = 16;
    const height = Math.min(2400, Math.max(120, (lanes.length + 1) * rowHeight + 60));
    // The timeline's colours: a service has one colour on the whole page.
    const services = [...new Set([...((t && t.services) || []).slice(0, SERIES_SHOWN).map((s) => s.name),
      ...lanes.map((l) => l.service || "(unclassified)")])];
    const colourOf = (l) => colour(services.indexOf(l.service || "(unclassified)"));
    const spans = actionSpans(report);
    const plugin = {
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx;
          const dpr = devicePixelRatio;
          ctx.save();
          ctx.font = `${Math.round(10 * dpr)}px sans-serif`;
          ctx.textBaseline = "middle";
          lanes.forEach((l, i) => {
            const y0 = u.valToPos(i + 0.1, "y", true), y1 = u.valToPos(i + 0.9, "y", true);
            const a = u.valToPos(l.first_ts, "x", true);
            const b = Math.max(a + 4 * dpr, u.valToPos(l.last_ts, "x", true));
            ctx.fillStyle = colourOf(l);
            ctx.fillRect(a, y0, b - a, Math.max(1, y1 - y0));
            // The name right of the bar, else inside it, else left of it: never cut. Lanes too thin
            // to hold a line of text show their names on hovering only.
            if (y1 - y0 < 9 * dpr) return;
            const label = l.name || (l.proto === "tcp" || l.proto === "udp" ? `${l.server}:${l.server_port}` : `${l.server} (${l.proto === "icmp" || l.proto === "icmpv6" ? "ICMP" : /^[0-9]+$/.test(l.proto) ? "IP " + l.proto : l.proto.toUpperCase()})`);
            const w = ctx.measureText(label).width;
            const mid = (y0 + y1) / 2;
            if (u.bbox.left + u.bbox.width - b > w + 6 * dpr) {
              ctx.fillStyle = "#222"; ctx.textAlign = "left"; ctx.fillText(label, b + 3 * dpr, mid);
            } else if (b - a > w + 6 * dpr) {
              ctx.fillStyle = "#fff"; ctx.textAlign = "left"; ctx.fillText(label, a + 3 * dpr, mid);
            } else {
              ctx.fillStyle = "#222"; ctx.textAlign = "right"; ctx.fillText(label, a - 3 * dpr, mid);
            }
          });
          ctx.restore();
        }],
        setCursor: [(u) => {
          const { left, top, idx } = u.cursor;
          if (left === undefined || left < 0 || idx === null) { tip.hidden = true; return; }
          const x = u.posToVal(left, "x"), y = u.posToVal(top, "y");
          const i = Math.floor(y);
          const l = lanes[i];
          if (!l || x < l.first_ts - (x1 - x0) / 200 || x > l.last_ts + (x1 - x0) / 200) { tip.hidden = true; return; }
          tip.replaceChildren(
            el("b", { text: l.name || "(no name)" }),
            el("div", { text: `${l.service || "(unclassified)"} \u00b7 ${l.proto}${l.app ? "/" + l.app : ""}${l.tls_version ? " \u00b7 " + l.tls_version : ""}` }),
            el("div", { text: `${l.client} \u2192 ${l.server}:${l.server_port}` }),
            el("div", { text: `${timeText(l.first_ts, false, 3)} \u2013 ${timeText(l.last_ts, false, 3)} (${(l.last_ts - l.first_ts).toFixed(3)} s)` }),
            el("div", { text: `\u2193 ${bytesText(l.bytes_down)}  \u2191 ${bytesText(l.bytes_up)}` }),
            l.action ? el("div", { text: `opened in: ${l.action}` }) : null);
          const r = u.over.getBoundingClientRect();
          tip.style.left = `${window.scrollX + r.left + left + 14}px`;
          tip.style.top = `${window.scrollY + r.top + top + 14}px`;
          tip.hidden = false;
        }],
      },
    };
    const opts = {
      width: Math.max(600, box.clientWidth || 1000), height,
      cursor: { sync: { key: syncKey }, drag: { x: true, y: false }, points: { show: false }, y: true },
      legend: { show: false },
      // Row -1 stays empty: the action labels are drawn there.
      scales: { x: { time: false, min: x0, max: x1 }, y: { range: [lanes.length, -1] } },
      // The same y-axis width as the timeline's, so that both charts share their x positions.
      axes: [{ values: timeAxis, space: 80 },
        { values: () => [], size: 70, label: "connections", ticks: { show: false }, grid: { show: false } }],
      series: [{}, { label: "lanes", show: false }],
      plugins: [bandsPlugin(spans), plugin],
    };
    box.replaceChildren();
    return new uPlot(opts, [[x0, x1], [null, null]], box);
  }

  // ---- the page -------------------------------------------------------------------------------------
  function summary(report, live) {
    const input = report.input || {};
    const total = report.total || {};
    const parts = [];
    if (input.file) parts.push(el("span", { class: "file", text: input.file }));
    if (input.first_ts) parts.push(el("span", { text: `${timeText(input.first_ts, true)} \u2013 ${timeText(input.last_ts)}` }));
    parts.push(el("span", { id: "total-connections", "data-value": String(total.connections ?? ""), text: `${countText(total.connections)} connections` }));
    parts.push(el("span", { id: "total-bytes", "data-value": String((total.bytes_up || 0) + (total.bytes_down || 0)),
      text: `\u2193 ${bytesText(total.bytes_down)} \u2191 ${bytesText(total.bytes_up)}` }));
    if (input.marks) parts.push(el("span", { text: `actions from ${input.marks}` }));
    if (live && live.action !== undefined) parts.push(el("span", { id: "current-action", class: "action", text: `now: ${live.action || "(no action)"}` }));
    return [el("h1", {}, "wiretally"), ...parts];
  }

  function draw(report, live) {
    const page = document.getElementById("page");
    const header = document.getElementById("summary");
    header.replaceChildren(...summary(report, live));
    if (live && live.markForm) header.append(live.markForm);
    const tip = document.getElementById("tip");
    const sections = [];
    const t = report.timeline;
    const charts = [];
    if (t && t.intervals > 0) {
      const sec = el("section", { id: "timeline" });
      const by = el("select", { "aria-label": "series" }, el("option", { value: "service", text: "by service" }), el("option", { value: "domain", text: "by domain" }));
      const dir = el("select", { "aria-label": "direction" }, el("option", { value: "both", text: "both directions" }), el("option", { value: "down", text: "down" }), el("option", { value: "up", text: "up" }));
      const box = el("div", { class: "chart", id: "timeline-chart" });
      const note = t.domains_total > t.domains.length ? ` Names drawn: the ${t.domains.length} largest of ${countText(t.domains_total)}.` : "";
      sec.append(el("h2", { text: "Bytes over time" }), el("div", { class: "table-tools" }, by, dir),
        el("p", { class: "note", text: `One value per ${t.interval_s} s interval, stacked; actions are the shaded bands, marks the dashed lines. Drag to zoom, double-click to reset.${note}` }), box);
      sections.push(sec);
      const kept = chosen.get("timeline");
      if (kept) { by.value = kept.by; dir.value = kept.dir; }
      const redraw = () => {
        chosen.set("timeline", { by: by.value, dir: dir.value });
        charts[0] && charts[0].destroy();
        charts[0] = timelineChart(report, box, by.value, dir.value, "wt");
      };
      by.addEventListener("change", redraw);
      dir.addEventListener("change", redraw);
      charts.redraw = redraw;
    }
    const fl = report.flow_lanes;
    if (fl && fl.flows && fl.flows.length) {
      const sec = el("section", { id: "flows" });
      const box = el("div", { class: "chart", id: "lanes-chart" });
      const capped = fl.total > fl.flows.length ? `The ${countText(fl.flows.length)} connections with the most bytes of ${countText(fl.total)}, ` : `All ${countText(fl.total)} connections, `;
      sec.append(el("h2", { text: "Connections" }),
        el("p", { class: "note", text: `${capped}one lane each from its first to its last packet, coloured by service: a lane across several bands is a connection reused across actions.` }), box);
      sections.push(sec);
      charts.lanes = () => lanesChart(report, box, "wt", tip);
    }
    sections.push(...tables(report));
    page.replaceChildren(...sections);
    if (charts.redraw) charts.redraw();
    // The charts stay reachable for the page's tests (they read positions and pixels through them).
    window.wiretally = { timeline: () => charts[0] || null, lanes: charts.lanes ? charts.lanes() : null };
    document.title = `wiretally: ${(report.input && report.input.file) || "live"}`;
    document.body.dataset.ready = "true";
  }

  // ---- `wiretally diff A B --format html`: the comparison of two sessions ----------------------------
  const CHANGE_TEXT = { only_a: "only in A", only_b: "only in B", changed: "changed", same: "same" };
  function diffColumns(nameTitle) {
    const side = (x, k) => (x && x[k] !== undefined ? x[k] : null);
    const delta = (r) => (side(r.b, "bytes_down") ?? 0) + (side(r.b, "bytes_up") ?? 0) - (side(r.a, "bytes_down") ?? 0) - (side(r.a, "bytes_up") ?? 0);
    return [
      { title: nameTitle, key: "name", value: (r) => r.name },
      { title: "change", key: "change", value: (r) => CHANGE_TEXT[r.change] || r.change },
      { title: "conn. A", key: "a_connections", numeric: true, value: (r) => side(r.a, "connections") },
      { title: "conn. B", key: "b_connections", numeric: true, value: (r) => side(r.b, "connections") },
      { title: "bytes A", key: "a_bytes", numeric: true, value: (r) => (r.a ? r.a.bytes_down + r.a.bytes_up : null), text: (r) => (r.a ? bytesText(r.a.bytes_down + r.a.bytes_up) : "") },
      { title: "bytes B", key: "b_bytes", numeric: true, value: (r) => (r.b ? r.b.bytes_down + r.b.bytes_up : null), text: (r) => (r.b ? bytesText(r.b.bytes_down + r.b.bytes_up) : "") },
      { title: "\u0394 bytes", key: "delta_bytes", numeric: true, value: delta, text: (r) => { const d = delta(r); return (d > 0 ? "+" : d < 0 ? "\u2212" : "") + bytesText(Math.abs(d)); } },
      { title: "TLS A", key: "a_tls_version", value: (r) => side(r.a, "tls_version") },
      { title: "TLS B", key: "b_tls_version", value: (r) => side(r.b, "tls_version") },
      { title: "cipher A", key: "a_cipher", value: (r) => side(r.a, "cipher") },
      { title: "cipher B", key: "b_cipher", value: (r) => side(r.b, "cipher") },
      { title: "ECH A", key: "a_ech", numeric: true, value: (r) => side(r.a, "ech") },
      { title: "ECH B", key: "b_ech", numeric: true, value: (r) => side(r.b, "ech") },
    ];
  }

  function drawDiff(d) {
    const header = document.getElementById("summary");
    header.replaceChildren(el("h1", {}, "wiretally diff"), el("span", { class: "file", text: `A: ${d.a}` }), el("span", { class: "file", text: `B: ${d.b}` }),
      el("span", { id: "new-domains", "data-value": String(d.new_domains.length), text: `${d.new_domains.length} domain${d.new_domains.length === 1 ? "" : "s"} only B talks to` }));
    const sections = [];
    if (d.new_domains.length) {
      sections.push(el("section", { id: "new" }, el("h2", { text: "Only B talks to" }),
        el("ul", { class: "summary" }, ...d.new_domains.map((n) => el("li", { text: n })))));
    }
    sections.push(table("diff-services", "Services", diffColumns("service"), d.services || []));
    sections.push(table("diff-domains", "Domains", diffColumns("domain"), d.domains || []));
    if (d.actions) {
      const rows = [];
      for (const a of d.actions) for (const r of a.domains || []) rows.push(Object.assign({ action: a.action }, r));
      sections.push(table("diff-actions", "Per action", [{ title: "action", key: "action", value: (r) => r.action }, ...diffColumns("domain")], rows));
    } else {
      sections.push(el("p", { class: "note", text: "The sessions have different action labels (or none), so they are not compared action by action." }));
    }
    document.getElementById("page").replaceChildren(...sections);
    document.title = `wiretally diff: ${d.a} \u2192 ${d.b}`;
    document.body.dataset.ready = "true";
  }

  // ---- live: /api/report every few seconds, and the mark button ------------------------------------
  function liveMarkForm(state) {
    const label = el("input", { type: "text", placeholder: "action label", id: "mark-label", "aria-label": "action label" });
    const token = el("input", { type: "password", placeholder: "token", id: "mark-token", "aria-label": "token",
      value: sessionStorage.getItem("wiretally-token") || "" });
    const status = el("span", { id: "mark-status" });
    const button = el("button", { type: "submit", id: "mark-button", text: "Mark" });
    const form = el("form", { id: "mark-form" }, label, token, button, status);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      sessionStorage.setItem("wiretally-token", token.value);
      status.textContent = "\u2026";
      try {
        const r = await fetch("api/mark", { method: "POST", headers: { "Authorization": `Bearer ${token.value}`, "Content-Type": "application/json" },
          body: JSON.stringify({ label: label.value }) });
        const body = await r.json().catch(() => ({}));
        status.textContent = r.ok ? `marked: ${body.action || label.value}` : `refused: ${body.error || r.status}`;
        if (r.ok) state.refresh();
      } catch (e) {
        status.textContent = `failed: ${e.message}`;
      }
    });
    return form;
  }

  function startLive() {
    const state = {};
    state.form = liveMarkForm(state);
    let busy = false;
    state.refresh = async () => {
      if (busy) return;
      busy = true;
      try {
        const r = await fetch("api/report", { cache: "no-store" });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const live = await r.json(); // {current_action, labels, report}: `ctl report --json`
        const focus = document.activeElement && document.activeElement.id;
        draw(live.report, { action: live.current_action ?? null, markForm: state.form });
        if (focus) { const f = document.getElementById(focus); if (f) f.focus(); }
      } catch (e) {
        document.getElementById("summary").replaceChildren(el("h1", {}, "wiretally"), el("span", { class: "error", text: `cannot read api/report: ${e.message}` }));
      } finally {
        busy = false;
      }
    };
    state.refresh();
    setInterval(state.refresh, LIVE_REFRESH_MS);
  }

  const embedded = JSON.parse(document.getElementById("wiretally-report").textContent);
  if (embedded && embedded.new_domains !== undefined && embedded.a !== undefined) {
    drawDiff(embedded);
  } else if (embedded) {
    // ?view=timeline: the timeline alone (what --format png renders).
    if (new URLSearchParams(location.search).get("view") === "timeline") document.body.classList.add("timeline-only");
    draw(embedded, null);
  } else {
    startLive();
  }
})();
