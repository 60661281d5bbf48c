package corpus

import (
	"bytes"
	"html"
	"strings"
)

// htmlSkip are elements whose content is never text.
var htmlSkip = map[string]bool{"script": true, "style": true, "noscript": true, "head": true, "svg": true, "template": true, "iframe": true}

// htmlBlock are elements that end a line of text.
var htmlBlock = map[string]bool{
	"p": true, "div": true, "br": true, "li": true, "ul": true, "ol": true, "tr": true, "table": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "section": true,
	"article": true, "header": true, "footer": true, "nav": true, "blockquote": true, "pre": true,
	"title": true, "dd": true, "dt": true, "hr": true, "main": true, "aside": true, "form": true,
}

// HTMLText reduces an HTML page to its visible text, one block element per line, the way
// Common Crawl's WET extraction does: tags dropped, script/style/head skipped, entities
// decoded, runs of spaces collapsed, empty lines removed. The <title> is kept as the first line.
func HTMLText(page []byte) string {
	var out strings.Builder
	var line []byte
	flush := func() {
		t := strings.Join(strings.Fields(html.UnescapeString(string(line))), " ")
		if t != "" {
			out.WriteString(t)
			out.WriteByte('\n')
		}
		line = line[:0]
	}
	skip := ""
	title := false
	for i := 0; i < len(page); {
		c := page[i]
		if c != '<' {
			j := bytes.IndexByte(page[i:], '<')
			if j < 0 {
				j = len(page) - i
			}
			if skip == "" || title {
				line = append(line, page[i:i+j]...)
				line = append(line, ' ')
			}
			i += j
			continue
		}
		if bytes.HasPrefix(page[i:], []byte("<!--")) {
			j := bytes.Index(page[i+4:], []byte("-->"))
			if j < 0 {
				break
			}
			i += 4 + j + 3
			continue
		}
		j := bytes.IndexByte(page[i:], '>')
		if j < 0 {
			break
		}
		tag := page[i+1 : i+j]
		i += j + 1
		closing := len(tag) > 0 && tag[0] == '/'
		if closing {
			tag = tag[1:]
		}
		end := 0
		for end < len(tag) && (tag[end] >= 'a' && tag[end] <= 'z' || tag[end] >= 'A' && tag[end] <= 'Z' || tag[end] >= '0' && tag[end] <= '9') {
			end++
		}
		name := strings.ToLower(string(tag[:end]))
		if name == "title" {
			title = !closing
			flush()
			continue
		}
		if skip != "" {
			if closing && name == skip {
				skip = ""
			}
			continue
		}
		if !closing && htmlSkip[name] && !bytes.HasSuffix(tag, []byte("/")) {
			flush()
			skip = name
			continue
		}
		if htmlBlock[name] {
			flush()
		}
	}
	flush()
	return out.String()
}
