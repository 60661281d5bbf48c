package viz

import (
	"bytes"
	"fmt"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// AttentionMap is one head's attention probabilities over n tokens: Probs is [n, n] flattened,
// row i the weights query i gives to each key (as generate.Attention returns them, one head's
// slice). Title names it, e.g. "layer 1 head 0".
type AttentionMap struct {
	Title string
	Probs []float32
}

// grid adapts an [n, n] map to gonum's heat map: column = key, row = query, query 0 at the top.
type grid struct {
	n int
	p []float32
}

func (g grid) Dims() (c, r int)   { return g.n, g.n }
func (g grid) Z(c, r int) float64 { return float64(g.p[(g.n-1-r)*g.n+c]) }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }
func (g grid) Min() float64       { return 0 }
func (g grid) Max() float64       { return 1 }

// attentionPlot is one heat map with the tokens as tick labels (keys along x, queries down y).
func attentionPlot(tokens []string, m AttentionMap) (*plot.Plot, error) {
	n := len(tokens)
	if len(m.Probs) != n*n {
		return nil, fmt.Errorf("attention map %q: %d values for %d tokens; want %d (n*n)", m.Title, len(m.Probs), n, n*n)
	}
	p := plot.New()
	p.Title.Text = m.Title
	p.Add(plotter.NewHeatMap(grid{n, m.Probs}, moreland.SmoothBlueRed().Palette(64)))
	var xt, yt []plot.Tick
	for i, t := range tokens {
		label := strconv.Quote(t)
		label = label[1 : len(label)-1] // newlines and tabs shown as \n, \t
		xt = append(xt, plot.Tick{Value: float64(i), Label: label})
		yt = append(yt, plot.Tick{Value: float64(n - 1 - i), Label: label})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Tick.Label.Rotation = 1.2
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.X.Label.Text, p.Y.Label.Text = "key", "query"
	return p, nil
}

// AttentionPNG draws attention maps of one prompt side by side, cols per row, each cell of size
// (zero = 3.5x3.5 inches). Darker red is more attention; above the diagonal is masked (0).
func AttentionPNG(tokens []string, maps []AttentionMap, cols int, cell Size) ([]byte, error) {
	if len(maps) == 0 {
		return nil, fmt.Errorf("attention maps: none given")
	}
	if cols <= 0 {
		cols = min(len(maps), 4)
	}
	if cell.W == 0 || cell.H == 0 {
		cell = Size{W: 3.5, H: 3.5}
	}
	rows := (len(maps) + cols - 1) / cols
	plots := make([][]*plot.Plot, rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, cols)
	}
	for i, m := range maps {
		p, err := attentionPlot(tokens, m)
		if err != nil {
			return nil, err
		}
		plots[i/cols][i%cols] = p
	}
	img := vgimg.New(vg.Length(cell.W*float64(cols))*vg.Inch, vg.Length(cell.H*float64(rows))*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter, PadY: vg.Millimeter}
	canvases := plot.Align(plots, tiles, dc)
	for r := range plots {
		for c, p := range plots[r] {
			if p != nil {
				p.Draw(canvases[r][c])
			}
		}
	}
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("rendering attention maps: %w", err)
	}
	return b.Bytes(), nil
}

// Head is head h's [n, n] map out of one layer's [H, n, n] probabilities (generate.Attention).
func Head(layer []float32, n, h int) []float32 { return layer[h*n*n : (h+1)*n*n] }
