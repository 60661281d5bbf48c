// Package viz draws what a researcher looks at during a run: a live loss curve, tables,
// attention maps and bar charts, as PNG images and HTML that a gonb notebook shows inline
// (through gonbui) and any other program can save. Nothing here needs Jupyter: outside a
// notebook the Show functions do nothing and the renderers still return their bytes.
package viz

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/janpfeifer/gonb/gonbui"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// Size of a rendered plot, in inches at 96 dpi (gonum/plot's PNG resolution).
type Size struct{ W, H float64 }

// DefaultSize fits a notebook cell's width.
var DefaultSize = Size{W: 7, H: 3.5}

// pngOf renders p at size (zero = DefaultSize) to PNG bytes.
func pngOf(p *plot.Plot, size Size) ([]byte, error) {
	if size.W == 0 || size.H == 0 {
		size = DefaultSize
	}
	wt, err := p.WriterTo(vg.Length(size.W)*vg.Inch, vg.Length(size.H)*vg.Inch, "png")
	if err != nil {
		return nil, fmt.Errorf("rendering a plot: %w", err)
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("rendering a plot: %w", err)
	}
	return b.Bytes(), nil
}

// ShowPNG displays a PNG in the notebook cell's output (as image/png, which the notebook keeps
// when saved and GitHub shows). Outside a notebook it does nothing.
func ShowPNG(png []byte) { gonbui.DisplayPNG(png) }

// ShowHTML displays HTML in the notebook cell's output. Outside a notebook it does nothing.
func ShowHTML(html string) { gonbui.DisplayHTML(html) }

// imgTag is an <img> holding png inline, for outputs updated in place (gonbui.UpdateHTML).
func imgTag(png []byte) string {
	return `<img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(png) + `">`
}
