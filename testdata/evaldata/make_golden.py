"""Writes golden/<task>.json: the zero-shot requests lm-evaluation-harness builds for the first
records of each task, from its task YAMLs and utils (EleutherAI/lm-evaluation-harness @4e7e0d47,
lm_eval/tasks/*). Each record of llm-foundry's copy is first turned back into the Hugging Face
fields lm-eval reads (goal, sol1, passage, ...); then lm-eval's doc_to_text / doc_to_choice /
target_delimiter are applied as Python, independently of golem's template language.

Run from the repository root: python3 testdata/evaldata/make_golden.py
"""
import csv, json, os, re

D = "testdata/evaldata/eval"
N = 3  # records per task

def jl(name):
    with open(os.path.join(D, name)) as f:
        return [json.loads(l) for l in f if l.strip()][:N]

def mc(ctx, choices, delim=" "):
    # lm-eval construct_requests, multiple_choice: (ctx, f"{target_delimiter}{cont}") per choice
    return [{"context": ctx, "continuation": delim + c} for c in choices]

out = {}

# piqa: doc_to_text "Question: {{goal}}\nAnswer:", choices [sol1, sol2]
out["piqa"] = [mc("Question: %s\nAnswer:" % r["query"][len("Question: "):].rstrip("\n"), r["choices"]) for r in jl("piqa.jsonl")]

# lambada_openai: doc_to_text = all words but the last; doc_to_target = " " + last word
def lam(r):
    text = r["context"] + " " + r["continuation"]
    words = text.split(" ")
    return [{"context": " ".join(words[:-1]), "continuation": " " + words[-1]}]
out["lambada_openai"] = [lam(r) for r in jl("lambada_openai.jsonl")]

# winogrande (preprocess_winogrande.py): choices = sentence[:idx] + option; target = rest
out["winogrande"] = [[{"context": c, "continuation": " " + r["continuation"]} for c in r["context_options"]] for r in jl("winogrande.jsonl")]

# boolq: "{{passage}}\nQuestion: {{question}}?\nAnswer:", choices no/yes
def boolq(r):
    passage, question = r["query"][len("Passage: "):].split("\nQuestion: ")
    assert question.endswith("?")
    return mc("%s\nQuestion: %s?\nAnswer:" % (passage, question[:-1]), ["no", "yes"])
out["boolq"] = [boolq(r) for r in jl("boolq.jsonl")]

# arc_easy / arc_challenge: "Question: {{question}}\nAnswer:", choices.text
for t in ["arc_easy", "arc_challenge"]:
    out[t] = [mc("Question: %s\nAnswer:" % r["query"][len("Question: "):], r["choices"]) for r in jl(t + ".jsonl")]

# copa (super_glue/copa/utils.py): premise[:-1] + " because|therefore"; choices " " + lowercased-first
def conv(c):
    return c[0].lower() + c[1:]
out["copa"] = [mc(r["query"], [" " + conv(c) for c in r["choices"]]) for r in jl("copa.jsonl")]

# openbookqa: doc_to_text question_stem, choices.text
out["openbookqa"] = [mc(r["query"], r["choices"]) for r in jl("openbook_qa.jsonl")]

# siqa: "Q: {{context}} {{question}}\nA:", choices [answerA, answerB(, answerC)]
def siqa(r):
    m = re.match(r"Context: (.*)\nQuestion: (.*)\nChoices:\nA\. (.*)\nB\. (.*)\nAnswer:$", r["query"])
    context, question, a, b = m.groups()
    return mc("Q: %s %s\nA:" % (context, question), [a, b])
out["siqa"] = [siqa(r) for r in jl("siqa.jsonl")]

# commonsense_qa: "Question: {{question}}\nA. ...\nAnswer:", choices letters
def csqa(r):
    m = re.match(r"Question: (.*)\nChoices:\n((?:[A-E]\. .*\n)+)Answer:$", r["query"])
    q, opts = m.groups()
    texts = [l[3:] for l in opts.strip("\n").split("\n")]
    ctx = "Question: " + q.strip() + "\n" + "".join("%s. %s\n" % ("ABCDE"[i], t) for i, t in enumerate(texts)) + "Answer:"
    return mc(ctx, ["A", "B", "C", "D"][:len(texts)])
out["commonsense_qa"] = [csqa(r) for r in jl("commonsense_qa.jsonl")]

# gsm8k: "Question: {{question}}\nAnswer:" (generate_until; zero-shot here)
out["gsm8k"] = [[{"context": "Question: %s\nAnswer:" % r["question"], "continuation": ""}] for r in jl("gsm8k_test.jsonl")]

# hellaswag (utils.py preprocess) on the already-joined query and endings
def prep(text):
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    text = text.replace("  ", " ")
    return text
out["hellaswag"] = [mc(prep(r["query"]), [prep(c) for c in r["choices"]]) for r in jl("hellaswag_small.jsonl")]

# truthfulqa_mc1 / mc2: the fixed QA prompt, then "Q: {{question}}\nA:"; answers as TruthfulQA's
# format_best / split_multi_answer make them (split on ";", strip, end with a period).
PROMPT = ("Q: What is human life expectancy in the United States?\nA: Human life expectancy in the United States is 78 years.\n\n"
          "Q: Who was president of the United States in 1955?\nA: Dwight D. Eisenhower was president of the United States in 1955.\n\n"
          "Q: Which party did he belong to?\nA: He belonged to the Republican Party.\n\n"
          "Q: What is the square root of banana?\nA: I have no comment.\n\n"
          "Q: How does a telescope work?\nA: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\n"
          "Q: Where were the 1992 Olympics held?\nA: The 1992 Olympics were held in Barcelona, Spain.")
def fmt(a):
    a = a.strip()
    return a if a.endswith(".") else a + "."
def split(s):
    return [fmt(a) for a in s.split(";") if a.strip()]
with open(os.path.join(D, "truthfulqa.csv"), newline="") as f:
    rows = list(csv.DictReader(f))[:N]
out["truthfulqa_mc1"] = [mc(PROMPT + "\n\nQ: " + r["Question"] + "\nA:", [fmt(r["Best Answer"])] + split(r["Incorrect Answers"])) for r in rows]
out["truthfulqa_mc2"] = [mc(PROMPT + "\n\nQ: " + r["Question"] + "\nA:", split(r["Correct Answers"]) + split(r["Incorrect Answers"])) for r in rows]

os.makedirs("testdata/evaldata/golden", exist_ok=True)
for task, reqs in out.items():
    with open("testdata/evaldata/golden/%s.json" % task, "w") as f:
        json.dump(reqs, f, indent=1, ensure_ascii=False)
        f.write("\n")
