// The HTML report in a real browser (issue #16): Debian's chromium, driven by playwright-core from
// the npm registry. For the bundled sample (with its marks) and a generated 100k-flow capture:
// the page loads from disk with no console error, the numbers in its tables equal the JSON report,
// the action bands and the flow lanes are drawn (canvas pixels at positions read from the charts),
// sorting, filtering and hovering work; --format png draws a PNG; `diff --format html` shows the
// comparison its JSON gives. Screenshots are kept in OUT_DIR.
//
//   node html_report_test.js WIRETALLY WT_GEN SAMPLE_DIR OUT_DIR
"use strict";

const assert = require("node:assert/strict");
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { launch, check, run } = require("./support.js");

const [wiretally, wtGen, sampleDir, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node html_report_test.js WIRETALLY WT_GEN SAMPLE_DIR OUT_DIR");
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), "wt-html-"));


function analyze(capture, args) {
  return execFileSync(wiretally, ["analyze", capture, "--no-ipdb", ...args], { maxBuffer: 1 << 30 });
}

async function openPage(browser, file) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  // The page must not reach for the network: every request but the file itself fails the test.
  const requests = [];
  page.on("request", (r) => { if (!r.url().startsWith("file://")) requests.push(r.url()); });
  await page.goto("file://" + file);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20000 });
  return { page, errors, requests };
}

// A table's rows as {column key: data-value or text} objects, in the order shown.
async function tableRows(page, id) {
  return page.$$eval(`#${id} table tbody tr`, (trs) => {
    const keys = [...trs[0].closest("table").querySelectorAll("thead th")].map((th) => th.dataset.column);
    return trs.map((tr) => Object.fromEntries([...tr.children].map((td, i) =>
      [keys[i], td.dataset.value !== undefined ? Number(td.dataset.value) : td.textContent])));
  });
}

// The RGBA of a canvas pixel at chart value (x, y in the chart's y scale, or a CSS offset from the plot top).
async function pixel(page, chart, xValue, yValue, fromTop) {
  return page.evaluate(({ chart, xValue, yValue, fromTop }) => {
    const u = chart === "lanes" ? window.wiretally.lanes : window.wiretally.timeline();
    const x = Math.round(u.valToPos(xValue, "x", true));
    const y = Math.round(fromTop !== undefined ? u.bbox.top + fromTop * devicePixelRatio : u.valToPos(yValue, "y", true));
    const d = u.ctx.getImageData(x, y, 1, 1).data;
    return [d[0], d[1], d[2], d[3]];
  }, { chart, xValue, yValue, fromTop });
}

async function main() {
  const browser = await launch();
  try {
    // ---- the bundled sample, with its marks --------------------------------------------------------
    const capture = path.join(sampleDir, "capture.pcap");
    const marks = path.join(sampleDir, "marks.csv");
    const htmlFile = path.join(work, "sample.html");
    analyze(capture, ["--marks", marks, "--format", "html", "-o", htmlFile]);
    const report = JSON.parse(analyze(capture, ["--marks", marks, "--format", "json", "--timeline"]));
    const plain = JSON.parse(analyze(capture, ["--marks", marks, "--format", "json"]));
    const { page, errors, requests } = await openPage(browser, htmlFile);
    // The README's picture: the page as it opens (scripts/update-screenshot.sh copies it to docs/).
    await page.screenshot({ path: path.join(outDir, "report-sample.png"), clip: { x: 0, y: 0, width: 1400, height: 1020 } });

    await check("sample: no console error, no network request", async () => {
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
    });
    await check("sample: the page's report is the JSON report (with --timeline), and its totals are the default report's", async () => {
      const embedded = await page.evaluate(() => JSON.parse(document.getElementById("wiretally-report").textContent));
      assert.deepEqual(embedded, report);
      for (const k of ["total", "services", "domains", "servers", "actions", "devices", "encrypted_dns"]) {
        assert.deepEqual(report[k], plain[k], `${k}: the timeline's interval tallies add up to the flow-by-flow report`);
      }
    });
    await check("sample: services and domains tables show the JSON report's numbers", async () => {
      const services = await tableRows(page, "services");
      assert.equal(services.length, report.services.length);
      for (const s of report.services) {
        const row = services.find((r) => r.service === (s.service ?? "(unclassified)"));
        assert.ok(row, `service ${s.service}`);
        assert.equal(row.connections, s.connections);
        assert.equal(row.bytes_down, s.bytes_down);
        assert.equal(row.bytes_up, s.bytes_up);
      }
      const domains = await tableRows(page, "domains");
      assert.equal(domains.length, report.domains.length);
      for (const d of report.domains) {
        const row = domains.find((r) => r.domain === d.domain);
        assert.ok(row, `domain ${d.domain}`);
        assert.deepEqual([row.connections, row.bytes_down, row.bytes_up], [d.connections, d.bytes_down, d.bytes_up]);
      }
      const total = await page.$eval("#total-bytes", (e) => Number(e.dataset.value));
      assert.equal(total, report.total.bytes_up + report.total.bytes_down);
      const actionRows = await tableRows(page, "actions");
      assert.equal(actionRows.length, report.actions.reduce((n, a) => n + a.domains.length, 0));
      const servers = await tableRows(page, "servers");
      assert.equal(servers.length, report.servers.length);
      const devices = await tableRows(page, "devices");
      assert.deepEqual(devices.map((d) => d.mac).sort(), report.devices.map((d) => d.mac).sort());
    });
    await check("sample: the timeline holds every byte, by service", async () => {
      const t = report.timeline;
      const sum = (list) => list.reduce((n, s) => n + s.bytes_up.reduce((a, b) => a + b, 0) + s.bytes_down.reduce((a, b) => a + b, 0), 0);
      assert.equal(sum(t.services), report.total.bytes_up + report.total.bytes_down);
      assert.equal(t.marks.length, 3);
      assert.deepEqual(t.marks.map((m) => m.action), ["App launch", "Climate", "Location"]);
    });
    await check("sample: action bands are drawn, alternating in colour, with marks", async () => {
      const t = report.timeline;
      const spans = t.marks.map((m, i) => [m.t, i + 1 < t.marks.length ? t.marks[i + 1].t : report.input.last_ts]);
      // The plot's top row, above the labels: uPlot leaves headroom above the largest value, so no
      // series reaches it.
      const colours = [];
      for (const [from, until] of spans) colours.push(await pixel(page, "timeline", (from * 0.3 + until * 0.7), null, 1));
      for (const c of colours) assert.ok(c[3] > 0, `band pixel ${c}`);
      assert.notDeepEqual(colours[0], colours[1], "adjacent bands differ");
      assert.deepEqual(colours[0], colours[2], "bands alternate");
      const outside = await pixel(page, "timeline", t.start + 0.02, null, 1);
      assert.notDeepEqual(outside, colours[0], "before the first mark is not a band");
    });
    await check("sample: one lane per connection, and the connection kept open across actions spans them", async () => {
      const lanes = report.flow_lanes.flows;
      assert.equal(report.flow_lanes.total, lanes.length, "a small capture shows every connection");
      const kept = lanes.findIndex((l) => l.name === "events.weather-app.example" && l.last_ts - l.first_ts > 45);
      assert.ok(kept >= 0, "the kept-open connection of the sample");
      const l = lanes[kept];
      const background = await pixel(page, "lanes", l.first_ts - 0.5, kept + 0.5);
      // The lane's colour is its service's colour in the timeline (one colour per service on the page).
      const serviceColour = await page.evaluate((name) => {
        const u = window.wiretally.timeline();
        const i = u.series.findIndex((s) => s.label === name);
        const stroke = i < 0 ? null : u.series[i].stroke;
        const hex = typeof stroke === "function" ? stroke(u, i) : stroke;
        return [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
      }, l.service || "(unclassified)");
      for (const f of [0.25, 0.5, 0.75]) {
        const c = await pixel(page, "lanes", l.first_ts + (l.last_ts - l.first_ts) * f, kept + 0.5);
        assert.notDeepEqual(c, background, `lane pixel at ${f} of the connection`);
        assert.deepEqual(c.slice(0, 3), serviceColour, `lane drawn in its service's timeline colour`);
      }
      // Hovering the lane shows its numbers.
      const pos = await page.evaluate(({ x, y }) => {
        const u = window.wiretally.lanes;
        const r = u.over.getBoundingClientRect();
        return { x: r.left + u.valToPos(x, "x"), y: r.top + u.valToPos(y, "y") };
      }, { x: (l.first_ts + l.last_ts) / 2, y: kept + 0.5 });
      await page.mouse.move(pos.x, pos.y);
      await page.waitForSelector("#tip:not([hidden])", { timeout: 5000 });
      const tip = await page.$eval("#tip", (e) => e.textContent);
      assert.ok(tip.includes("events.weather-app.example") && tip.includes("TLSv1.3"), tip);
    });
    await check("sample: tables sort and filter", async () => {
      await page.fill("#domains input[type=search]", "weather");
      const shown = await tableRows(page, "domains");
      assert.equal(shown.length, report.domains.filter((d) => d.domain.includes("weather")).length);
      await page.fill("#domains input[type=search]", "");
      await page.click("#domains th[data-column=bytes_down]");
      const sorted = await tableRows(page, "domains");
      const most = Math.max(...report.domains.map((d) => d.bytes_down));
      assert.equal(sorted[0].bytes_down, most);
      await page.click("#domains th[data-column=bytes_down]");
      const ascending = await tableRows(page, "domains");
      assert.equal(ascending[0].bytes_down, Math.min(...report.domains.map((d) => d.bytes_down)));
    });
    await check("sample: per-domain series on demand", async () => {
      await page.selectOption("#timeline select[aria-label=series]", "domain");
      const labels = await page.$$eval("#timeline-chart .u-legend .u-label", (ls) => ls.map((l) => l.textContent));
      assert.ok(labels.some((l) => l.startsWith("tiles.maps.example")), labels.join(","));
      await page.selectOption("#timeline select[aria-label=series]", "service");
    });
    await page.close();

    // ---- diff --format html: the same comparison as its JSON ------------------------------------------
    await check("diff: the page shows the JSON comparison's rows and what only B talks to", async () => {
      const aFile = path.join(work, "a.json");
      const withoutEvents = JSON.parse(JSON.stringify(plain));
      withoutEvents.domains = withoutEvents.domains.filter((d) => d.domain !== "events.weather-app.example");
      fs.writeFileSync(aFile, JSON.stringify(withoutEvents));
      const diffHtml = path.join(work, "diff.html");
      execFileSync(wiretally, ["diff", aFile, capture, "--format", "html", "-o", diffHtml]);
      const diff = JSON.parse(execFileSync(wiretally, ["diff", aFile, capture, "--format", "json"]));
      assert.deepEqual(diff.new_domains, ["events.weather-app.example"]);
      const d = await openPage(browser, diffHtml);
      assert.deepEqual(d.errors, []);
      const news = await d.page.$$eval("#new li", (lis) => lis.map((li) => li.textContent));
      assert.deepEqual(news, diff.new_domains);
      const rows = await tableRows(d.page, "diff-domains");
      assert.equal(rows.length, diff.domains.length);
      const events = rows.find((r) => r.name === "events.weather-app.example");
      const expected = diff.domains.find((r) => r.name === "events.weather-app.example");
      assert.equal(events.change, "only in B");
      assert.equal(events.b_bytes, expected.b.bytes_up + expected.b.bytes_down);
      assert.equal(events.b_connections, expected.b.connections);
      await d.page.close();
    });

    // ---- a generated capture of 100k flows --------------------------------------------------------
    const big = path.join(work, "100k.pcap");
    execFileSync(wtGen, ["--flows", "50000", "--new-flows-per-s", "100000", "--total-flows", "100000", "--mix", "dns=60,tls=25,quic=15",
      "--size", "64", "--seed", "7", "-q", "-o", big]);
    const bigHtml = path.join(work, "100k.html");
    analyze(big, ["--format", "html", "-o", bigHtml]);
    const bigReport = JSON.parse(analyze(big, ["--format", "json", "--timeline"]));
    const bytes = fs.statSync(bigHtml).size;
    console.log(`100k flows: page ${bytes} bytes, ${bigReport.flow_lanes.total} flows, ${bigReport.domains.length} domains`);
    const big1 = await openPage(browser, bigHtml);
    await check("100k flows: the page loads with no error, lanes capped and said so", async () => {
      assert.deepEqual(big1.errors, []);
      assert.equal(bigReport.flow_lanes.flows.length, 2000);
      assert.equal(bigReport.flow_lanes.total, 100000);
      const note = await big1.page.$eval("#flows .note", (e) => e.textContent);
      assert.ok(note.includes("2,000 connections with the most bytes of"), note);
      const services = await tableRows(big1.page, "services");
      assert.equal(services.length, bigReport.services.length);
      const total = await big1.page.$eval("#total-bytes", (e) => Number(e.dataset.value));
      assert.equal(total, bigReport.total.bytes_up + bigReport.total.bytes_down);
      // Large tables draw their first 500 rows, and the rest on demand.
      assert.ok(bigReport.domains.length > 500, `${bigReport.domains.length} domains`);
      assert.equal((await tableRows(big1.page, "domains")).length, 500);
      await big1.page.click("#domains button.more");
      assert.equal((await tableRows(big1.page, "domains")).length, bigReport.domains.length);
    });
    await big1.page.screenshot({ path: path.join(outDir, "report-100k.png"), fullPage: false });
    await big1.page.close();

    // ---- --format png ------------------------------------------------------------------------------
    await check("png: analyze --format png draws the timeline through the page", async () => {
      const png = path.join(outDir, "timeline-sample.png");
      fs.rmSync(png, { force: true });
      analyze(capture, ["--marks", marks, "--format", "png", "-o", png]);
      const head = fs.readFileSync(png);
      assert.equal(head.subarray(0, 8).toString("hex"), "89504e470d0a1a0a");
      assert.equal(head.readUInt32BE(16), 1400, "width");
      assert.ok(head.length > 20000, `a drawn page, not a blank one (${head.length} bytes)`);
      assert.ok(!fs.existsSync(png + ".html"), "the page drawn from is removed");
    });
  } finally {
    await browser.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

run(main);
