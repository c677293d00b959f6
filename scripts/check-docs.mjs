// npm run lint:docs — the docs say nothing the tree contradicts about where things are: every relative
// link in README.md, docs/ and bench/ resolves (file, folder, and #anchor to a heading), and every
// repository path written in backticks (`src/...`, `test/...`, …) exists. Prints what does not; exit 1.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const ROOTS = ['README.md', 'docs', 'bench/README.md', 'bench/results'];
const PATH_PREFIXES = /^(src|test|durable-objects|workers|scripts|bench|migrations|docs|public)\//;

const files = ROOTS.flatMap((r) => (!existsSync(r) ? [] : statSync(r).isDirectory() ? walk(r) : [r]));
function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.md') ? [p] : [];
  });
}

// GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes.
const slug = (h) => h.trim().toLowerCase().replace(/<[^>]+>/g, '').replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
const anchorsCache = new Map();
function anchors(file) {
  if (!anchorsCache.has(file)) {
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
    anchorsCache.set(file, new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]))));
  }
  return anchorsCache.get(file);
}

const problems = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const prose = text.replace(/```[\s\S]*?```/g, '');
  for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1];
    if (/^[a-z]+:/i.test(target)) continue; // http:, mailto:
    const [path, anchor] = target.split('#');
    const resolved = path ? normalize(join(dirname(file), path)) : file;
    if (!existsSync(resolved)) problems.push(`${file}: link to ${target}: no such file`);
    else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) problems.push(`${file}: link to ${target}: no such heading`);
  }
  for (const m of prose.matchAll(/`([^`\s]+)`/g)) {
    const p = m[1].replace(/[.,:;]$/, '').replace(/:\d+$/, '');
    if (!PATH_PREFIXES.test(p) || /[<>*{}$]|\.\.\./.test(p)) continue;
    if (!existsSync(p)) problems.push(`${file}: names ${p}, which does not exist`);
  }
}
for (const p of problems) console.log(p);
if (problems.length) {
  console.log(`\n${problems.length} problem(s) in ${files.length} documents`);
  process.exit(1);
}
console.log(`docs: ${files.length} documents, every link and path resolves`);
