// bench.mjs compares golem's tokenizer speed with npm tiktoken (OpenAI's Rust tiktoken
// compiled to WASM) and npm @anush008/tokenizers (Hugging Face tokenizers, native Rust) on
// the same documents, in one run, and checks that HF loads golem-written tokenizer.json
// files and encodes with them exactly as tiktoken does.
//
//   cd bench/tokenizer && npm install && node bench.mjs [seconds-per-measurement]
//
// Documents: English = testdata/tinyshakespeare.txt split after each blank line (1.1 MB);
// Russian = testdata/tokenizer/ru_karenina_200k.txt x5 split after each line (1 MB).
// "1core" = one thread; HF's 1core runs encodeBatch in a child with RAYON_NUM_THREADS=1.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { get_encoding } from "tiktoken";
const require = createRequire(import.meta.url);
const { Tokenizer } = require("@anush008/tokenizers");

const root = path.resolve(import.meta.dirname, "../..");
const td = path.join(root, "testdata/tokenizer");
const secs = Number(process.argv[2] || 2);
const corpus = {
  en: fs.readFileSync(path.join(root, "testdata/tinyshakespeare.txt"), "utf8").split(/(?<=\n\n)/),
  ru: fs.readFileSync(path.join(td, "ru_karenina_200k.txt"), "utf8").repeat(5).split(/(?<=\n)/),
};
const mb = (docs) => docs.reduce((n, d) => n + Buffer.byteLength(d), 0) / 1e6;

async function timeIt(f) {
  await f(); // warm-up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < secs * 1000) {
    await f();
    n++;
  }
  return (performance.now() - t0) / 1000 / n;
}

// HF files: golem writes r50k and cl100k as tokenizer.json; gpt-neo and llama are HF's own.
const tmp = process.env.HF_CHILD || fs.mkdtempSync(path.join(os.tmpdir(), "golem-bench-"));
const goEnv = { ...process.env, GOEXPERIMENT: "simd" };
const hfFiles = {
  r50k: path.join(tmp, "r50k.json"),
  cl100k: path.join(tmp, "cl100k.json"),
  "gpt-neo": path.join(td, "gpt-neo/tokenizer.json"),
  "llama-json": path.join(td, "llama2/tokenizer.json"),
};

if (process.env.HF_CHILD) {
  // child: HF single-thread timings, printed as JSON
  const out = {};
  for (const [name, file] of Object.entries(hfFiles)) {
    const tok = Tokenizer.fromFile(file);
    for (const lang of ["en", "ru"]) {
      const docs = corpus[lang];
      out[`${name}/${lang}`] = mb(docs) / (await timeIt(() => tok.encodeBatch(docs, { addSpecialTokens: false })));
    }
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

for (const name of ["r50k", "cl100k"]) {
  execFileSync("go", ["run", "./cmd/tokenizer", "convert", "-t", path.join(td, `${name}_base.tiktoken`), "-o", hfFiles[name]], { cwd: root, env: goEnv });
}

const results = {}; // key "vocab/lang" -> {ours1, oursN, tiktoken, hf1, hfN}
const put = (k, f, v) => ((results[k] ??= {})[f] = v);

// Interop: HF with golem's tokenizer.json must give tiktoken's ids.
for (const name of ["r50k", "cl100k"]) {
  const enc = get_encoding(`${name}_base`);
  const tok = Tokenizer.fromFile(hfFiles[name]);
  let docs = 0, bad = 0;
  for (const lang of ["en", "ru"]) {
    const sample = corpus[lang].slice(0, 2000);
    const hf = await tok.encodeBatch(sample, { addSpecialTokens: false });
    sample.forEach((d, i) => {
      docs++;
      const a = Array.from(enc.encode_ordinary(d)), b = hf[i].getIds();
      if (a.length !== b.length || a.some((x, j) => x !== b[j])) bad++;
    });
  }
  console.log(`interop: HF tokenizers on golem's ${name} tokenizer.json vs tiktoken: ${docs - bad}/${docs} documents identical`);
  enc.free();
}

// tiktoken (single-threaded WASM)
for (const name of ["r50k", "cl100k"]) {
  const enc = get_encoding(`${name}_base`);
  for (const lang of ["en", "ru"]) {
    const docs = corpus[lang];
    put(`${name}/${lang}`, "tiktoken", mb(docs) / (await timeIt(() => { for (const d of docs) enc.encode_ordinary(d); })));
  }
  enc.free();
}
// HF tokenizers, all cores
for (const [name, file] of Object.entries(hfFiles)) {
  const tok = Tokenizer.fromFile(file);
  for (const lang of ["en", "ru"]) {
    const docs = corpus[lang];
    put(`${name}/${lang}`, "hfN", mb(docs) / (await timeIt(() => tok.encodeBatch(docs, { addSpecialTokens: false }))));
  }
}
// HF tokenizers, one thread
const child = spawnSync(process.execPath, [import.meta.filename, String(secs)], {
  env: { ...process.env, HF_CHILD: tmp, RAYON_NUM_THREADS: "1", TOKENIZERS_PARALLELISM: "false" }, encoding: "utf8" });
if (child.status !== 0) throw new Error("HF single-thread child failed: " + child.stderr);
for (const [k, v] of Object.entries(JSON.parse(child.stdout))) put(k, "hf1", v);

// golem (go test -bench)
const goOut = execFileSync("go", ["test", "-run", "^$", "-bench", "Encode", "-benchtime", `${secs}s`, "./tokenizer/"], { cwd: root, env: goEnv, encoding: "utf8" });
for (const line of goOut.split("\n")) {
  const m = line.match(/^BenchmarkEncode\/([^/]+)\/(en|ru)\/(1core-nocache|1core|allcores-\d+)\S*\s+\d+\s+\d+ ns\/op\s+([\d.]+) MB\/s/);
  if (m) put(`${m[1]}/${m[2]}`, { "1core": "ours1", "1core-nocache": "ours0" }[m[3]] ?? "oursN", Number(m[4]));
}

const f = (x) => (x === undefined ? "-" : x.toFixed(1));
const r = (a, b) => (a === undefined || b === undefined ? "-" : (a / b).toFixed(2) + "x");
console.log(`\nMB/s of UTF-8 input, ${os.cpus().length} cores (${os.cpus()[0].model}); ratios = golem / other`);
console.log("golem-nocache = one core, word cache off (every word merged from bytes); the others keep their caches warm (HF has one, tiktoken has none)");
console.log("vocab/lang          golem-nocache golem-1core golem-all tiktoken-1core HF-1core HF-all | vs tiktoken(1core) vs tiktoken(nocache) vs HF(1core) vs HF(all)");
for (const [k, v] of Object.entries(results).sort()) {
  console.log(`${k.padEnd(20)}${f(v.ours0).padStart(13)}${f(v.ours1).padStart(12)}${f(v.oursN).padStart(10)}${f(v.tiktoken).padStart(15)}${f(v.hf1).padStart(9)}${f(v.hfN).padStart(7)} | ${r(v.ours1, v.tiktoken).padStart(18)} ${r(v.ours0, v.tiktoken).padStart(18)} ${r(v.ours1, v.hf1).padStart(12)} ${r(v.oursN, v.hfN).padStart(10)}`);
}
fs.rmSync(tmp, { recursive: true });
