package corpus

import (
	"strings"
	"unicode/utf8"
)

// C4Config holds C4's line and page rules (Raffel et al. 2020), as datatrove's
// C4QualityFilter applies them. A zero field is off.
type C4Config struct {
	// TerminalPunct removes lines that do not end in terminal punctuation (. ! ? " …).
	TerminalPunct bool `yaml:"terminal_punct"`
	// MinWordsPerLine removes lines with fewer words (C4: 3).
	MinWordsPerLine int `yaml:"min_words_per_line"`
	// MaxWordLength removes lines holding a longer word, in characters (C4: 1000).
	MaxWordLength int `yaml:"max_word_length"`
	// MinSentences drops documents with fewer sentences after line removal (C4: 5; c4_sentences).
	MinSentences int `yaml:"min_sentences"`
	// CurlyBracket drops documents containing '{', a sign of code (c4_curly_bracket).
	CurlyBracket bool `yaml:"curly_bracket"`
}

func (c C4Config) lineRules() bool {
	return c.TerminalPunct || c.MinWordsPerLine > 0 || c.MaxWordLength > 0
}

// FineWebConfig holds the FineWeb quality rules (Penedo et al. 2024). A zero field is off.
type FineWebConfig struct {
	// MinLinePunct is the least share of lines ending in terminal punctuation (FineWeb:
	// 0.12; fineweb_line_punct).
	MinLinePunct float64 `yaml:"min_line_punct"`
	// MaxShortLines bounds the share of lines under 30 characters (FineWeb: 0.67;
	// fineweb_short_lines).
	MaxShortLines float64 `yaml:"max_short_lines"`
	// MaxDupLineChars bounds the characters in repeated lines over all characters
	// (FineWeb: 0.01; fineweb_dup_line_chars).
	MaxDupLineChars float64 `yaml:"max_dup_line_chars"`
	// MaxNewlinesPerWord bounds newlines per word, for list-like pages (FineWeb: 0.3;
	// fineweb_list_like).
	MaxNewlinesPerWord float64 `yaml:"max_newlines_per_word"`
}

func (c FineWebConfig) on() bool {
	return c.MinLinePunct > 0 || c.MaxShortLines > 0 || c.MaxDupLineChars > 0 || c.MaxNewlinesPerWord > 0
}

var terminalPunct = []string{".", "!", "?", "\"", "…", "。", "！", "？", "'", "”"}

func endsSentence(line string) bool {
	for _, p := range terminalPunct {
		if strings.HasSuffix(line, p) {
			return true
		}
	}
	return false
}

// c4Lines applies C4's line rules; it returns the kept lines joined by "\n".
func c4Lines(text string, c *C4Config) string {
	var b strings.Builder
	b.Grow(len(text))
	for line := range strings.SplitSeq(text, "\n") {
		t := strings.TrimSpace(line)
		if c.TerminalPunct && !endsSentence(t) {
			continue
		}
		words := fields(t)
		if c.MinWordsPerLine > 0 && len(words) < c.MinWordsPerLine {
			continue
		}
		if c.MaxWordLength > 0 {
			long := false
			for _, w := range words {
				if len(w) > c.MaxWordLength && utf8.RuneCountInString(w) > c.MaxWordLength {
					long = true
					break
				}
			}
			if long {
				continue
			}
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String())
}

// sentences counts sentence ends: terminal punctuation followed by space or the end.
func sentences(text string) int {
	n := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '.', '!', '?':
			if i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\n' || text[i+1] == '"' {
				n++
			}
		}
	}
	return n
}

// fineweb applies the FineWeb rules; it returns the reason or "".
func fineweb(text string, words []string, c *FineWebConfig) string {
	lines := splitNonEmpty(text, "\n")
	if len(lines) == 0 {
		return ""
	}
	if c.MinLinePunct > 0 {
		p := 0
		for _, l := range lines {
			if endsSentence(l) {
				p++
			}
		}
		if float64(p)/float64(len(lines)) < c.MinLinePunct {
			return "fineweb_line_punct"
		}
	}
	if c.MaxShortLines > 0 {
		short := 0
		for _, l := range lines {
			if utf8.RuneCountInString(l) < 30 {
				short++
			}
		}
		if float64(short)/float64(len(lines)) > c.MaxShortLines {
			return "fineweb_short_lines"
		}
	}
	if c.MaxDupLineChars > 0 {
		_, chars := duplicates(lines)
		total := len(strings.ReplaceAll(text, "\n", ""))
		if total > 0 && float64(chars)/float64(total) > c.MaxDupLineChars {
			return "fineweb_dup_line_chars"
		}
	}
	if c.MaxNewlinesPerWord > 0 && len(words) > 0 {
		if float64(strings.Count(text, "\n"))/float64(len(words)) > c.MaxNewlinesPerWord {
			return "fineweb_list_like"
		}
	}
	return ""
}

// C4Filters are C4's rules: NFC, boilerplate, and the C4 line and page rules.
func C4Filters() FilterConfig {
	c := MinimalFilters()
	c.Boilerplate = true
	c.C4 = C4Config{TerminalPunct: true, MinWordsPerLine: 3, MaxWordLength: 1000, MinSentences: 5, CurlyBracket: true}
	return c
}

// FineWebFilters are FineWeb's: the Gopher rules, C4 without the terminal-punctuation
// line rule, and the FineWeb rules.
func FineWebFilters() FilterConfig {
	c := DefaultFilters()
	c.C4 = C4Config{MinWordsPerLine: 3, MaxWordLength: 1000, MinSentences: 5, CurlyBracket: true}
	c.FineWeb = FineWebConfig{MinLinePunct: 0.12, MaxShortLines: 0.67, MaxDupLineChars: 0.01, MaxNewlinesPerWord: 0.3}
	return c
}
