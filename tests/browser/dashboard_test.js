// The live dashboard (issue #16) in a real browser: `wiretally run` replays the bundled sample once from a
// net_pcap port (inline, to net_null), with its dashboard on [http] listen and a token. Debian's chromium,
// driven by playwright-core, loads http://.../ and checks: no console error; the numbers on the page are the
// ones `ctl report --json` gives; the timeline and the lanes are drawn; a mark from the page's button (with the
// token) reaches `ctl actions`, and the page then shows it as the action under way; without the token, or with
// a wrong one, marking is refused. A screenshot is kept in OUT_DIR. Root only, as the other live tests (exit 77).
//
//   node dashboard_test.js WIRETALLY SAMPLE_CAPTURE OUT_DIR
"use strict";

const assert = require("node:assert/strict");
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { launch, check, run } = require("./support.js");

const [wiretally, sample, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node dashboard_test.js WIRETALLY SAMPLE_CAPTURE OUT_DIR");
  process.exit(2);
}
if (process.getuid() !== 0) {
  console.log("skipped: not root (the live appliance's tests run as root)");
  process.exit(77);
}
const TOKEN = "dash-" + Math.random().toString(36).slice(2);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "wt-dash-"));
const socket = path.join(work, "wt.sock");
const prefix = `wtdash${process.pid}`;
const config = `# written by tests/browser/dashboard_test.js
[eal]
cores = [0, 1]
hugepages = false
memory_mb = 384
vdevs = ["net_pcap0,rx_pcap=${sample}", "net_null0,no-rx=1"]
file_prefix = "${prefix}"

[run]
mode = "inline"
workers = 1

[[port]]
name = "in"
device = "net_pcap0"
peer = "out"

[[port]]
name = "out"
device = "net_null0"
peer = "in"

[flows]
max_flows = 16384

[stats]
interval = "200ms"

[control]
socket = "${socket}"
telemetry = false

[snapshot]
file = ""

[http]
listen = "127.0.0.1:0"
token = "${TOKEN}"
`;
fs.writeFileSync(path.join(work, "wt.toml"), config);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ctl = (...args) => JSON.parse(execFileSync(wiretally, ["ctl", "--socket", socket, "--json", ...args], { maxBuffer: 1 << 28 }));

async function main() {
  const log = fs.openSync(path.join(work, "run.log"), "w");
  const daemon = spawn(wiretally, ["run", "--config", path.join(work, "wt.toml")], { stdio: ["ignore", log, log] });
  let browser = null;
  try {
    // The dashboard's address, from the start-up line (the listener took a free port).
    let url = null;
    for (let i = 0; i < 200 && !url; i++) {
      await sleep(100);
      const m = /dashboard (http:\/\/[^ ,\n]+)/.exec(fs.readFileSync(path.join(work, "run.log"), "utf8"));
      if (m) url = m[1];
      assert.equal(daemon.exitCode, null, "wiretally run exited: " + fs.readFileSync(path.join(work, "run.log"), "utf8"));
    }
    assert.ok(url, "no dashboard address in the log");
    // The sample is replayed once: wait until its flows are all tallied (the same totals 4 s apart: longer
    // than a flow waits for its name before its first part is tallied).
    let previous = null;
    for (let i = 0; i < 30; i++) {
      await sleep(4000);
      const total = ctl("report").report.total;
      if (previous && total.connections > 0 && total.bytes_down === previous.bytes_down && total.connections === previous.connections) break;
      previous = total;
    }

    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForSelector("body[data-ready=true]", { timeout: 20000 });

    await check("the page loads from the appliance with no console error", async () => {
      assert.deepEqual(errors, []);
      assert.equal(await page.$eval("#current-action", (e) => e.textContent), "now: (no action)");
    });
    await check("its numbers are ctl report's", async () => {
      const live = ctl("report");
      // The page refreshes every 3 s: within two refreshes it shows what ctl shows.
      await page.waitForFunction((want) => Number((document.getElementById("total-bytes") || {}).dataset?.value) === want,
        live.report.total.bytes_up + live.report.total.bytes_down, { timeout: 8000 }).catch(() => {});
      const total = await page.$eval("#total-bytes", (e) => Number(e.dataset.value));
      assert.equal(total, live.report.total.bytes_up + live.report.total.bytes_down);
      const rows = await page.$$eval("#services table tbody tr", (trs) => trs.length);
      assert.equal(rows, live.report.services.length);
      const domains = await page.$$eval("#domains table tbody tr td:first-child", (tds) => tds.map((t) => t.textContent).sort());
      assert.deepEqual(domains, live.report.domains.map((d) => d.domain).sort());
    });
    await check("the timeline and the lanes are drawn", async () => {
      const drawn = await page.evaluate(() => {
        const t = window.wiretally.timeline();
        const l = window.wiretally.lanes;
        return { series: t ? t.series.length : 0, lanes: l ? 1 : 0 };
      });
      assert.ok(drawn.series > 1, `timeline series ${drawn.series}`);
      assert.equal(drawn.lanes, 1);
    });
    await check("marking without the token, or with a wrong one, is refused", async () => {
      await page.fill("#mark-label", "Climate");
      await page.fill("#mark-token", "wrong");
      await page.click("#mark-button");
      await page.waitForFunction(() => document.getElementById("mark-status").textContent.startsWith("refused"), null, { timeout: 5000 });
      assert.equal(ctl("actions").current, null);
    });
    await check("a mark from the page reaches ctl actions, and the page shows it", async () => {
      await page.fill("#mark-token", TOKEN);
      await page.fill("#mark-label", "Climate");
      await page.click("#mark-button");
      await page.waitForFunction(() => document.getElementById("mark-status").textContent.startsWith("marked"), null, { timeout: 5000 });
      assert.equal(ctl("actions").current, "Climate");
      await page.waitForFunction(() => (document.getElementById("current-action") || {}).textContent === "now: Climate", null, { timeout: 10000 });
    });
    await check("the same listener serves Prometheus /metrics with ctl's numbers", async () => {
      const scrape = await page.evaluate(async () => {
        const r = await fetch("metrics");
        return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
      });
      assert.equal(scrape.status, 200);
      assert.equal(scrape.type, "text/plain; version=0.0.4; charset=utf-8");
      const down = scrape.body.split("\n").filter((l) => l.startsWith("wiretally_service_bytes_total{") && l.includes('direction="down"'))
        .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
      assert.equal(down, ctl("report").report.total.bytes_down);
    });
    await page.screenshot({ path: path.join(outDir, "dashboard.png") });
    const started = Date.now();
    const api = await page.evaluate(async () => (await fetch("api/report")).status);
    console.log(`api/report: HTTP ${api} in ${Date.now() - started} ms (the sample's flows)`);
  } finally {
    if (browser) await browser.close();
    daemon.kill("SIGTERM");
    for (let i = 0; i < 100 && daemon.exitCode === null; i++) await sleep(100);
    if (daemon.exitCode === null) daemon.kill("SIGKILL");
    fs.rmSync(work, { recursive: true, force: true });
  }
}

run(main);
