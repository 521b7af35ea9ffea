// Prints the functions with the most self time in a V8 .cpuprofile (node --cpu-prof), for
// profiling the js/wasm build: node scripts/cpuprofile-top.cjs FILE.cpuprofile [N]
const fs = require("fs");
const [file, n = "30"] = process.argv.slice(2);
const prof = JSON.parse(fs.readFileSync(file, "utf8"));
const byId = new Map(prof.nodes.map((node) => [node.id, node]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) {
  const name = byId.get(prof.samples[i]).callFrame.functionName || "(anonymous)";
  self.set(name, (self.get(name) || 0) + (dt[i] || 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(n));
for (const [name, t] of rows) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${name}`);
// With a third argument, also the callers of that function, by self time below them.
const focus = process.argv[4];
if (focus) {
  const parent = new Map();
  for (const node of prof.nodes) for (const c of node.children || []) parent.set(c, node.id);
  const by = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]);
    if (node.callFrame.functionName !== focus) continue;
    const p = byId.get(parent.get(node.id));
    const name = p ? p.callFrame.functionName : "(root)";
    by.set(name, (by.get(name) || 0) + (dt[i] || 0));
  }
  console.log(`callers of ${focus}:`);
  for (const [name, t] of [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10))
    console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${name}`);
}
// With INCLUSIVE=regexp in the environment, the functions matching it by total time (self and
// everything they call).
if (process.env.INCLUSIVE) {
  const re = new RegExp(process.env.INCLUSIVE);
  const parent = new Map();
  for (const node of prof.nodes) for (const c of node.children || []) parent.set(c, node.id);
  const incl = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const seen = new Set();
    for (let id = prof.samples[i]; id !== undefined; id = parent.get(id)) {
      const name = byId.get(id).callFrame.functionName;
      if (re.test(name) && !seen.has(name)) {
        seen.add(name);
        incl.set(name, (incl.get(name) || 0) + (dt[i] || 0));
      }
    }
  }
  for (const [name, t] of [...incl.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40))
    console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  incl  ${name}`);
}
