// Drives a running golem serve with the official openai client; serve/openai_client_test.go
// starts the server and runs `node client.mjs` with GOLEM_BASE_URL and GOLEM_API_KEY set.
// Every check throws on failure (exit 1); the last line printed is "all checks passed".
import OpenAI from "openai";
import assert from "node:assert/strict";

const client = new OpenAI({ baseURL: process.env.GOLEM_BASE_URL, apiKey: process.env.GOLEM_API_KEY, maxRetries: 0, timeout: 60_000 });
const model = process.env.GOLEM_MODEL;

const models = await client.models.list();
assert.ok(models.data.some((m) => m.id === model), `models ${JSON.stringify(models.data)} lack ${model}`);
console.log("models ok");

const greedy = await client.completions.create({ model, prompt: "I dream of", max_tokens: 16, temperature: 0 });
const text = greedy.choices[0].text;
assert.ok(text.startsWith(" 0.000000. Dimensions"), `greedy completion ${JSON.stringify(text)}`);
assert.equal(greedy.choices[0].finish_reason, "length");
assert.equal(greedy.usage.completion_tokens, 16);
console.log("completion ok:", JSON.stringify(text));

// lm-evaluation-harness's local-completions scoring: echo + logprobs + max_tokens 0.
const scored = await client.completions.create({ model, prompt: "I dream of 0.000000", max_tokens: 0, echo: true, logprobs: 1, temperature: 0 });
const lp = scored.choices[0].logprobs;
assert.equal(scored.choices[0].text, "I dream of 0.000000");
assert.equal(lp.token_logprobs[0], null);
assert.ok(lp.token_logprobs.slice(1).every((x) => typeof x === "number" && x <= 0), JSON.stringify(lp.token_logprobs));
assert.equal(lp.tokens.length, lp.token_logprobs.length);
console.log("echo logprobs ok:", lp.token_logprobs.length, "tokens");

const withTop = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 5, logprobs: 3, temperature: 0 });
assert.equal(withTop.choices[0].logprobs.top_logprobs.length, 5);
assert.ok(withTop.choices[0].logprobs.top_logprobs.every((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= 3));
console.log("top logprobs ok");

const stopped = await client.completions.create({ model, prompt: "I dream of", max_tokens: 30, temperature: 0, stop: ["Dim"] });
assert.equal(stopped.choices[0].finish_reason, "stop");
assert.equal(stopped.choices[0].text, text.slice(0, text.indexOf("Dim")));
console.log("stop ok");

const messages = [{ role: "system", content: "You dream." }, { role: "user", content: "Tell me a dream" }];
const whole = await client.chat.completions.create({ model, messages, max_tokens: 20, temperature: 0 });
const stream = await client.chat.completions.create({ model, messages, max_tokens: 20, temperature: 0, stream: true });
let streamed = "", chunks = 0, finish = null;
for await (const chunk of stream) {
  chunks++;
  streamed += chunk.choices[0]?.delta?.content ?? "";
  finish = chunk.choices[0]?.finish_reason ?? finish;
}
assert.ok(chunks > 2, `${chunks} chunks`);
assert.equal(streamed, whole.choices[0].message.content);
assert.ok(finish === "length" || finish === "stop", `finish ${finish}`);
console.log("streaming chat ok:", JSON.stringify(streamed));

try {
  await client.completions.create({ model, prompt: "x", n: 0 });
  assert.fail("n: 0 was accepted");
} catch (err) {
  assert.ok(err instanceof OpenAI.APIError, String(err));
  assert.equal(err.status, 400);
  assert.match(err.message, /n: 0 must be between 1 and/);
}
console.log("bad request ok");

const many = await Promise.all(Array.from({ length: 8 }, () => client.completions.create({ model, prompt: "I dream of", max_tokens: 16, temperature: 0 })));
assert.ok(many.every((r) => r.choices[0].text === text), JSON.stringify(many.map((r) => r.choices[0].text)));
const seeded = await Promise.all([1, 2].map(() => client.completions.create({ model, prompt: "The sky", max_tokens: 12, temperature: 1, seed: 42 })));
assert.equal(seeded[0].choices[0].text, seeded[1].choices[0].text);
console.log("concurrent ok");
console.log("all checks passed");
