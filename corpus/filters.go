package corpus

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FilterConfig configures cleaning and quality filtering. Every threshold is off at its
// zero value; DefaultFilters returns the Gopher (Rae et al. 2021) settings that datatrove
// and dolma use. Each dropped document is counted under the reason named in the field's
// comment.
type FilterConfig struct {
	// Normalize is the Unicode normal form applied to kept text: "nfc", "nfkc" or "none".
	// Except with "none", line endings also become "\n" and surrounding space is trimmed.
	Normalize string `yaml:"normalize"`
	// InvalidUTF8 is what to do with text that is not valid UTF-8: "drop" the document
	// (reason invalid_utf8), "replace" bad bytes with U+FFFD, or "keep" them as they are.
	InvalidUTF8 string `yaml:"invalid_utf8"`
	// MinChars and MaxChars bound the text length in bytes after cleaning (too_short, too_long).
	MinChars int `yaml:"min_chars"`
	MaxChars int `yaml:"max_chars"`
	// MinWords and MaxWords bound the number of whitespace-separated words (too_few_words, too_many_words).
	MinWords int `yaml:"min_words"`
	MaxWords int `yaml:"max_words"`
	// MinMeanWordLen and MaxMeanWordLen bound the mean word length in characters (mean_word_length).
	MinMeanWordLen float64 `yaml:"min_mean_word_len"`
	MaxMeanWordLen float64 `yaml:"max_mean_word_len"`
	// MaxSymbolRatio bounds ("#" + "..." + "…") per word (symbol_ratio).
	MaxSymbolRatio float64 `yaml:"max_symbol_ratio"`
	// MaxEllipsisLines bounds the share of lines ending in "..." or "…" (ellipsis_lines).
	MaxEllipsisLines float64 `yaml:"max_ellipsis_lines"`
	// MaxBulletLines bounds the share of lines starting with a bullet (bullet_lines).
	MaxBulletLines float64 `yaml:"max_bullet_lines"`
	// MinAlphaWords is the least share of words holding a letter (alpha_words).
	MinAlphaWords float64 `yaml:"min_alpha_words"`
	// StopWords must occur at least MinStopWords times (stop_words). Applied only to
	// documents whose language is unknown or English.
	StopWords    []string `yaml:"stop_words"`
	MinStopWords int      `yaml:"min_stop_words"`
	// Repetition bounds, Gopher table A1 (dup_lines, dup_paragraphs, dup_line_chars,
	// dup_paragraph_chars, top_ngram_N, dup_ngram_N).
	Repetition RepetitionConfig `yaml:"repetition"`
	// Boilerplate removes C4 boilerplate lines (cookie, privacy and terms notices,
	// "enable javascript") and drops pages containing "lorem ipsum" (lorem_ipsum).
	Boilerplate bool `yaml:"boilerplate"`
	// C4 and FineWeb hold those datasets' extra rules (see C4Filters, FineWebFilters).
	C4      C4Config      `yaml:"c4"`
	FineWeb FineWebConfig `yaml:"fineweb"`
	// Languages keeps only documents whose identified language (WET
	// WARC-Identified-Content-Language or a JSONL language field; the first listed) is one
	// of these ISO 639 codes (2 or 3 letters). Empty keeps every language (language).
	// Documents without language information are kept unless DropUnknownLanguage.
	Languages           []string `yaml:"languages"`
	DropUnknownLanguage bool     `yaml:"drop_unknown_language"`
}

// RepetitionConfig bounds repeated content; a zero field is off.
type RepetitionConfig struct {
	MaxDupLines          float64 `yaml:"max_dup_lines"`           // share of lines that repeat an earlier line
	MaxDupParagraphs     float64 `yaml:"max_dup_paragraphs"`      // share of paragraphs that repeat
	MaxDupLineChars      float64 `yaml:"max_dup_line_chars"`      // share of characters in repeated lines
	MaxDupParagraphChars float64 `yaml:"max_dup_paragraph_chars"` // share of characters in repeated paragraphs
	// MaxTopNgram[n] bounds the share of characters in the most frequent word n-gram, n=2..4.
	MaxTopNgram map[int]float64 `yaml:"max_top_ngram"`
	// MaxDupNgram[n] bounds the share of characters in word n-grams seen more than once, n=5..10.
	MaxDupNgram map[int]float64 `yaml:"max_dup_ngram"`
}

// EnglishStopWords are Gopher's stop words.
var EnglishStopWords = []string{"the", "be", "to", "of", "and", "that", "have", "with"}

// DefaultFilters returns Gopher's quality settings with NFC normalisation.
func DefaultFilters() FilterConfig {
	return FilterConfig{
		Normalize: "nfc", InvalidUTF8: "drop",
		MinChars: 1, MinWords: 50, MaxWords: 100000,
		MinMeanWordLen: 3, MaxMeanWordLen: 10,
		MaxSymbolRatio: 0.1, MaxEllipsisLines: 0.3, MaxBulletLines: 0.9, MinAlphaWords: 0.8,
		StopWords: EnglishStopWords, MinStopWords: 2,
		Repetition: RepetitionConfig{
			MaxDupLines: 0.3, MaxDupParagraphs: 0.3, MaxDupLineChars: 0.2, MaxDupParagraphChars: 0.2,
			MaxTopNgram: map[int]float64{2: 0.2, 3: 0.18, 4: 0.16},
			MaxDupNgram: map[int]float64{5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10},
		},
		Boilerplate: true,
	}
}

// MinimalFilters only cleans: NFC, drop invalid UTF-8 and empty documents.
func MinimalFilters() FilterConfig {
	return FilterConfig{Normalize: "nfc", InvalidUTF8: "drop", MinChars: 1}
}

// Validate reports impossible settings, naming the key under prefix (e.g. "data.filters").
func (c *FilterConfig) Validate(prefix string) error {
	switch c.Normalize {
	case "", "nfc", "nfkc", "none":
	default:
		return fmt.Errorf("%s.normalize: %q; use nfc, nfkc or none", prefix, c.Normalize)
	}
	switch c.InvalidUTF8 {
	case "", "drop", "replace", "keep":
	default:
		return fmt.Errorf("%s.invalid_utf8: %q; use drop, replace or keep", prefix, c.InvalidUTF8)
	}
	if c.MaxChars > 0 && c.MaxChars < c.MinChars || c.MaxWords > 0 && c.MaxWords < c.MinWords {
		return fmt.Errorf("%s: max_chars/max_words must be at least min_chars/min_words", prefix)
	}
	for _, f := range []struct {
		key string
		v   float64
	}{{"max_symbol_ratio", c.MaxSymbolRatio}, {"max_ellipsis_lines", c.MaxEllipsisLines}, {"max_bullet_lines", c.MaxBulletLines}, {"min_alpha_words", c.MinAlphaWords}} {
		if f.v < 0 || f.v > 1 {
			return fmt.Errorf("%s.%s: %g must be in [0, 1]", prefix, f.key, f.v)
		}
	}
	for _, l := range c.Languages {
		if len(l) < 2 || len(l) > 3 {
			return fmt.Errorf("%s.languages: %q is not an ISO 639 code such as en or eng", prefix, l)
		}
	}
	return nil
}

// Filter applies a FilterConfig. It is safe for concurrent use.
type Filter struct {
	cfg   FilterConfig
	langs map[string]bool
	stop  map[string]bool
	// maxStop is the longest stop word plus room for punctuation, in bytes.
	maxStop int
}

// NewFilter prepares a filter.
func NewFilter(cfg FilterConfig) *Filter {
	f := &Filter{cfg: cfg, stop: map[string]bool{}}
	if len(cfg.Languages) > 0 {
		f.langs = map[string]bool{}
		for _, l := range cfg.Languages {
			f.langs[iso639_3(l)] = true
		}
	}
	for _, w := range cfg.StopWords {
		f.stop[strings.ToLower(w)] = true
		f.maxStop = max(f.maxStop, len(w)+6)
	}
	return f
}

// Apply cleans a document's text and decides whether to keep it. It returns the cleaned
// text, or reason != "" naming the filter that dropped it.
func (f *Filter) Apply(d *Document) (text, reason string) {
	text, reason, _ = f.ApplyEdits(d)
	return text, reason
}

// Edits are the changes cleaning made to a kept document, as a bit set.
type Edits uint8

const (
	EditUTF8Replaced     Edits = 1 << iota // invalid bytes became U+FFFD
	EditLineEndings                        // CR or CRLF became LF
	EditNormalized                         // Unicode normalisation changed the text
	EditBoilerplateLines                   // C4 boilerplate lines were removed
	EditC4Lines                            // lines failing the C4 line rules were removed
)

// EditNames name each edit bit in reports, in bit order.
var EditNames = []string{"utf8_replaced", "line_endings", "unicode_normalized", "boilerplate_lines_removed", "c4_lines_removed"}

// ApplyEdits is Apply that also says what cleaning changed.
func (f *Filter) ApplyEdits(d *Document) (text, reason string, edits Edits) {
	text, reason = f.apply(d, &edits)
	return text, reason, edits
}

func (f *Filter) apply(d *Document, edits *Edits) (text, reason string) {
	c := &f.cfg
	text = d.Text
	if f.langs != nil {
		lang := primaryLang(d.Lang)
		if lang == "" && c.DropUnknownLanguage || lang != "" && !f.langs[lang] {
			return "", "language"
		}
	}
	if c.InvalidUTF8 != "keep" && !utf8.ValidString(text) {
		if c.InvalidUTF8 != "replace" {
			return "", "invalid_utf8"
		}
		text = strings.ToValidUTF8(text, "\uFFFD")
		*edits |= EditUTF8Replaced
	}
	if c.Normalize != "none" && strings.IndexByte(text, '\r') >= 0 {
		text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
		*edits |= EditLineEndings
	}
	switch c.Normalize {
	case "nfc":
		if !norm.NFC.IsNormalString(text) {
			text = norm.NFC.String(text)
			*edits |= EditNormalized
		}
	case "nfkc":
		if !norm.NFKC.IsNormalString(text) {
			text = norm.NFKC.String(text)
			*edits |= EditNormalized
		}
	}
	if c.Boilerplate {
		n := len(text)
		var ok bool
		if text, ok = removeBoilerplate(text); !ok {
			return "", "lorem_ipsum"
		}
		if len(text) < n {
			*edits |= EditBoilerplateLines
		}
	}
	if c.Normalize != "none" {
		text = strings.TrimSpace(text)
	}
	if c.C4.CurlyBracket && strings.IndexByte(text, '{') >= 0 {
		return "", "c4_curly_bracket"
	}
	if c.C4.lineRules() {
		n := len(text)
		if text = c4Lines(text, &c.C4); len(text) < n {
			*edits |= EditC4Lines
		}
	}
	if c.C4.MinSentences > 0 && strings.TrimSpace(text) != "" && sentences(text) < c.C4.MinSentences {
		return "", "c4_sentences"
	}
	if strings.TrimSpace(text) == "" {
		return "", "empty"
	}
	if c.MinChars > 0 && len(text) < c.MinChars {
		return "", "too_short"
	}
	if c.MaxChars > 0 && len(text) > c.MaxChars {
		return "", "too_long"
	}
	words := fields(text)
	if r := f.gopherQuality(text, words, d.Lang); r != "" {
		return "", r
	}
	if r := repetition(text, words, &c.Repetition); r != "" {
		return "", r
	}
	if c.FineWeb.on() {
		if r := fineweb(text, words, &c.FineWeb); r != "" {
			return "", r
		}
	}
	return text, ""
}

// gopherQuality applies the word-level Gopher heuristics.
func (f *Filter) gopherQuality(text string, words []string, lang string) string {
	c := &f.cfg
	n := len(words)
	if c.MinWords > 0 && n < c.MinWords {
		return "too_few_words"
	}
	if c.MaxWords > 0 && n > c.MaxWords {
		return "too_many_words"
	}
	if n == 0 {
		return ""
	}
	if c.MinMeanWordLen > 0 || c.MaxMeanWordLen > 0 {
		chars := 0
		for _, w := range words {
			chars += utf8.RuneCountInString(w)
		}
		mean := float64(chars) / float64(n)
		if mean < c.MinMeanWordLen || c.MaxMeanWordLen > 0 && mean > c.MaxMeanWordLen {
			return "mean_word_length"
		}
	}
	if c.MaxSymbolRatio > 0 {
		sym := strings.Count(text, "#") + strings.Count(text, "...") + strings.Count(text, "…")
		if float64(sym)/float64(n) > c.MaxSymbolRatio {
			return "symbol_ratio"
		}
	}
	if c.MaxEllipsisLines > 0 || c.MaxBulletLines > 0 {
		lines, ell, bul := 0, 0, 0
		for line := range strings.SplitSeq(text, "\n") {
			line = strings.TrimSpace(line)
			lines++
			if strings.HasSuffix(line, "...") || strings.HasSuffix(line, "…") {
				ell++
			}
			if isBullet(line) {
				bul++
			}
		}
		if c.MaxEllipsisLines > 0 && float64(ell)/float64(lines) > c.MaxEllipsisLines {
			return "ellipsis_lines"
		}
		if c.MaxBulletLines > 0 && float64(bul)/float64(lines) > c.MaxBulletLines {
			return "bullet_lines"
		}
	}
	if c.MinAlphaWords > 0 {
		alpha := 0
		for _, w := range words {
			if strings.IndexFunc(w, unicode.IsLetter) >= 0 {
				alpha++
			}
		}
		if float64(alpha)/float64(n) < c.MinAlphaWords {
			return "alpha_words"
		}
	}
	if c.MinStopWords > 0 {
		if l := primaryLang(lang); l == "" || l == "eng" {
			found := 0
			for _, w := range words {
				if len(w) > f.maxStop {
					continue // longer than any stop word with punctuation around it
				}
				if f.stop[strings.ToLower(strings.Trim(w, ".,;:!?\"'()"))] {
					if found++; found >= c.MinStopWords {
						break
					}
				}
			}
			if found < c.MinStopWords {
				return "stop_words"
			}
		}
	}
	return ""
}

func isBullet(line string) bool {
	for _, b := range []string{"•", "●", "○", "▪", "■", "◦", "‣", "⁃", "-", "*", "·"} {
		if strings.HasPrefix(line, b) {
			return true
		}
	}
	return false
}

// c4Boilerplate are C4's line-removal phrases (lower case).
var c4Boilerplate = []string{"javascript", "terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"}

// removeBoilerplate drops C4 boilerplate lines; ok is false for lorem-ipsum pages.
func removeBoilerplate(text string) (string, bool) {
	lower := asciiLower(text)
	if strings.Contains(lower, "lorem ipsum") {
		return "", false
	}
	hit := false
	for _, p := range c4Boilerplate {
		if strings.Contains(lower, p) {
			hit = true
			break
		}
	}
	if !hit {
		return text, true
	}
	var b strings.Builder
	for len(text) > 0 {
		n := strings.IndexByte(text, '\n') + 1
		if n == 0 {
			n = len(text)
		}
		line, l := text[:n], lower[:n]
		text, lower = text[n:], lower[n:]
		drop := false
		for _, p := range c4Boilerplate {
			if strings.Contains(l, p) {
				drop = true
				break
			}
		}
		if !drop {
			b.WriteString(line)
		}
	}
	return b.String(), true
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay those of s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// iso639_3 maps common 2-letter codes to the 3-letter codes Common Crawl uses.
func iso639_3(code string) string {
	code = strings.ToLower(strings.TrimSpace(code))
	if l, ok := iso639map[code]; ok {
		return l
	}
	return code
}

var iso639map = map[string]string{
	"en": "eng", "es": "spa", "fr": "fra", "de": "deu", "it": "ita", "pt": "por", "nl": "nld",
	"ru": "rus", "zh": "zho", "ja": "jpn", "ko": "kor", "ar": "ara", "hi": "hin", "pl": "pol",
	"tr": "tur", "sv": "swe", "cs": "ces", "uk": "ukr", "vi": "vie", "id": "ind", "fa": "fas",
	"el": "ell", "he": "heb", "da": "dan", "fi": "fin", "no": "nor", "nb": "nob", "hu": "hun",
	"ro": "ron", "th": "tha", "ca": "cat", "an": "arg", "eu": "eus", "gl": "glg",
}

// primaryLang is the first language of a WET language list ("eng,fra" -> "eng"), as a
// 3-letter code; "" when unknown.
func primaryLang(l string) string {
	if l == "" {
		return ""
	}
	first, _, _ := strings.Cut(l, ",")
	first, _, _ = strings.Cut(first, "_") // FineWeb-2 style "eng_Latn"
	return iso639_3(first)
}
