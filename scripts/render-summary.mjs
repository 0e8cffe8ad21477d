#!/usr/bin/env node
// Renders a job summary (GitHub-flavoured markdown with HTML tables and
// mermaid blocks) the way the Actions UI shows it, in headless Chromium:
//   node scripts/render-summary.mjs SUMMARY.md OUT_DIR
// writes OUT_DIR/summary.html and OUT_DIR/summary.png, and prints JSON:
// {"mermaid":"ok"|"error: …","diagrams":N,"svgs":N}. Mermaid renders each
// block with its own parser, so a block that is not valid mermaid shows up as
// an error here. Chromium runs with networking features off and every host
// name unresolvable: the page is self-contained.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { marked } from 'marked';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function chromiumPath() {
  for (const c of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [c], { encoding: 'utf8' }).trim();
    } catch {
      // try the next name
    }
  }
  return undefined;
}

function escapeHtml(s) {
  return s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
}

export function summaryHtml(markdown) {
  const renderer = new marked.Renderer();
  const code = renderer.code.bind(renderer);
  renderer.code = (token) => (token.lang === 'mermaid' ? `<pre class="mermaid">${escapeHtml(token.text)}</pre>` : code(token));
  const body = marked.parse(markdown, { renderer, gfm: true });
  const mermaid = fs.readFileSync(path.join(ROOT, 'node_modules/mermaid/dist/mermaid.min.js'), 'utf8');
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI","Noto Sans",Helvetica,Arial,sans-serif;font-size:14px;color:#1f2328;margin:24px;max-width:1150px}
h3{font-size:1.25em;border-bottom:1px solid #d1d9e0;padding-bottom:.3em}
table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #d1d9e0;padding:6px 13px}th{background:#f6f8fa}
code{background:#eff1f3;border-radius:6px;padding:.2em .4em;font-size:85%}
pre.mermaid{background:#fff}
</style></head><body data-mermaid="pending">${body}
<script>${mermaid}</script>
<script>
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default' });
const blocks = document.querySelectorAll('pre.mermaid');
Promise.all([...blocks].map((b) => mermaid.parse(b.textContent)))
  .then(() => mermaid.run({ nodes: blocks }))
  .then(() => { document.body.dataset.mermaid = 'ok'; })
  .catch((e) => { document.body.dataset.mermaid = 'error: ' + (e && e.message ? e.message : String(e)); });
</script></body></html>`;
}

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--host-resolver-rules=MAP * ~NOTFOUND',
  '--virtual-time-budget=10000',
];

export function render(summaryFile, outDir) {
  const chromium = chromiumPath();
  if (!chromium) throw new Error('chromium is not installed (apt-get install chromium)');
  fs.mkdirSync(outDir, { recursive: true });
  const html = path.join(outDir, 'summary.html');
  fs.writeFileSync(html, summaryHtml(fs.readFileSync(summaryFile, 'utf8')));
  const url = `file://${html}`;
  const dom = execFileSync(chromium, [...CHROMIUM_FLAGS, '--dump-dom', url], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const png = path.join(outDir, 'summary.png');
  execFileSync(chromium, [...CHROMIUM_FLAGS, '--window-size=1200,1000', `--screenshot=${png}`, url], { stdio: 'ignore' });
  const status = /<body[^>]*data-mermaid="([^"]*)"/.exec(dom)?.[1] ?? 'missing';
  // Count in the rendered page only, not in the inlined mermaid library.
  const page = dom.replace(/<script>[\s\S]*?<\/script>/g, '');
  return {
    mermaid: status,
    diagrams: (page.match(/<pre class="mermaid"/g) ?? []).length,
    svgs: (page.match(/<svg[^>]*aria-roledescription="gantt"/g) ?? []).length,
    tables: (page.match(/<table/g) ?? []).length,
    html,
    png,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [summary, out] = process.argv.slice(2);
  if (!summary || !out) {
    console.error('usage: node scripts/render-summary.mjs SUMMARY.md OUT_DIR');
    process.exit(2);
  }
  console.log(JSON.stringify(render(summary, out)));
}
