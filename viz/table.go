package viz

import (
	"fmt"
	"html"
	"strings"
)

// Table is a header and rows of cells, rendered as an HTML table (or plain text).
type Table struct {
	Caption string
	Header  []string
	Rows    [][]string
}

// Add appends a row, formatting each value with %v (floats with 4 significant digits).
func (t *Table) Add(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		switch v := c.(type) {
		case float64:
			row[i] = fmt.Sprintf("%.4g", v)
		case float32:
			row[i] = fmt.Sprintf("%.4g", v)
		default:
			row[i] = fmt.Sprint(v)
		}
	}
	t.Rows = append(t.Rows, row)
}

// HTML renders the table; cells are escaped, and whitespace in them is kept (documents and
// token strings are shown as they are).
func (t *Table) HTML() string {
	var b strings.Builder
	b.WriteString("<table>")
	if t.Caption != "" {
		fmt.Fprintf(&b, "<caption>%s</caption>", html.EscapeString(t.Caption))
	}
	row := func(tag string, cells []string) {
		b.WriteString("<tr>")
		for _, c := range cells {
			fmt.Fprintf(&b, `<%s style="text-align:left;white-space:pre-wrap">%s</%s>`, tag, html.EscapeString(c), tag)
		}
		b.WriteString("</tr>")
	}
	if len(t.Header) > 0 {
		b.WriteString("<thead>")
		row("th", t.Header)
		b.WriteString("</thead>")
	}
	b.WriteString("<tbody>")
	for _, r := range t.Rows {
		row("td", r)
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

// String renders the table as aligned plain text (for logs and terminals).
func (t *Table) String() string {
	all := append([][]string{t.Header}, t.Rows...)
	var widths []int
	for _, r := range all {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	if t.Caption != "" {
		b.WriteString(t.Caption + "\n")
	}
	for _, r := range all {
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c + strings.Repeat(" ", widths[i]-len([]rune(c))))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Show displays the table as HTML in the notebook.
func (t *Table) Show() { ShowHTML(t.HTML()) }
