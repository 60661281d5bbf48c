package convert

import (
	"encoding/binary"
	"math"
	"os"
	"testing"
)

// runc is a straightforward llama2.c forward pass, written from run.c's forward() with plain
// loops over the raw file (it shares no code with the importer): the reference the imported
// model's logits are compared against.
type runc struct {
	dim, hidden, layers, heads, kvHeads, vocab, seqLen int
	shared                                             bool
	emb, rmsAtt, wq, wk, wv, wo, rmsFFN, w1, w2, w3    []float32
	rmsFinal, wcls                                     []float32
}

func loadRunC(t *testing.T, path string) *runc {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr := make([]int, 7)
	for i := range hdr {
		hdr[i] = int(int32(binary.LittleEndian.Uint32(b[4*i:])))
	}
	r := &runc{dim: hdr[0], hidden: hdr[1], layers: hdr[2], heads: hdr[3], kvHeads: hdr[4], vocab: hdr[5], seqLen: hdr[6]}
	r.shared = r.vocab > 0
	if r.vocab < 0 {
		r.vocab = -r.vocab
	}
	f := make([]float32, (len(b)-28)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[28+4*i:]))
	}
	hs := r.dim / r.heads
	kvDim := r.kvHeads * hs
	take := func(n int) []float32 { out := f[:n]; f = f[n:]; return out }
	L := r.layers
	r.emb = take(r.vocab * r.dim)
	r.rmsAtt = take(L * r.dim)
	r.wq = take(L * r.dim * r.heads * hs)
	r.wk = take(L * r.dim * kvDim)
	r.wv = take(L * r.dim * kvDim)
	r.wo = take(L * r.heads * hs * r.dim)
	r.rmsFFN = take(L * r.dim)
	r.w1 = take(L * r.dim * r.hidden)
	r.w2 = take(L * r.hidden * r.dim)
	r.w3 = take(L * r.dim * r.hidden)
	r.rmsFinal = take(r.dim)
	take(r.seqLen * hs / 2) // freq_cis_real
	take(r.seqLen * hs / 2) // freq_cis_imag
	r.wcls = r.emb
	if !r.shared {
		r.wcls = take(r.vocab * r.dim)
	}
	if len(f) != 0 {
		t.Fatalf("%s: %d floats left over", path, len(f))
	}
	return r
}

func rmsnorm(o, x, w []float32) {
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	ss = ss/float32(len(x)) + 1e-5
	ss = 1 / float32(math.Sqrt(float64(ss)))
	for j := range o {
		o[j] = w[j] * (ss * x[j])
	}
}

// matmul is W (d,n) @ x (n,) -> xout (d,).
func matmul(xout, x, w []float32, n, d int) {
	for i := 0; i < d; i++ {
		var val float32
		for j := 0; j < n; j++ {
			val += w[i*n+j] * x[j]
		}
		xout[i] = val
	}
}

func softmax(x []float32) {
	m := x[0]
	for _, v := range x {
		m = max(m, v)
	}
	var sum float32
	for i := range x {
		x[i] = float32(math.Exp(float64(x[i] - m)))
		sum += x[i]
	}
	for i := range x {
		x[i] /= sum
	}
}

// logits runs tokens through the model one position at a time with a KV cache, as run.c
// does, and returns the logits after each position.
func (r *runc) logits(tokens []int) [][]float32 {
	dim, hs := r.dim, r.dim/r.heads
	kvDim := r.kvHeads * hs
	kvMul := r.heads / r.kvHeads
	x, xb, xb2 := make([]float32, dim), make([]float32, dim), make([]float32, dim)
	hb, hb2 := make([]float32, r.hidden), make([]float32, r.hidden)
	q := make([]float32, dim)
	att := make([]float32, r.seqLen)
	kc := make([]float32, r.layers*r.seqLen*kvDim)
	vc := make([]float32, r.layers*r.seqLen*kvDim)
	var out [][]float32
	for pos, tok := range tokens {
		copy(x, r.emb[tok*dim:(tok+1)*dim])
		for l := 0; l < r.layers; l++ {
			rmsnorm(xb, x, r.rmsAtt[l*dim:])
			loff := l * r.seqLen * kvDim
			k := kc[loff+pos*kvDim : loff+(pos+1)*kvDim]
			v := vc[loff+pos*kvDim : loff+(pos+1)*kvDim]
			matmul(q, xb, r.wq[l*dim*dim:], dim, dim)
			matmul(k, xb, r.wk[l*dim*kvDim:], dim, kvDim)
			matmul(v, xb, r.wv[l*dim*kvDim:], dim, kvDim)
			for i := 0; i < dim; i += 2 {
				headDim := i % hs
				freq := 1 / float32(math.Pow(10000, float64(float32(headDim)/float32(hs))))
				val := float32(pos) * freq
				fcr, fci := float32(math.Cos(float64(val))), float32(math.Sin(float64(val)))
				rotn := 1
				if i < kvDim {
					rotn = 2
				}
				for vi := 0; vi < rotn; vi++ {
					vec := q
					if vi == 1 {
						vec = k
					}
					v0, v1 := vec[i], vec[i+1]
					vec[i] = v0*fcr - v1*fci
					vec[i+1] = v0*fci + v1*fcr
				}
			}
			for h := 0; h < r.heads; h++ {
				qh := q[h*hs : (h+1)*hs]
				for t := 0; t <= pos; t++ {
					kt := kc[loff+t*kvDim+(h/kvMul)*hs:]
					var score float32
					for i := 0; i < hs; i++ {
						score += qh[i] * kt[i]
					}
					att[t] = score / float32(math.Sqrt(float64(hs)))
				}
				softmax(att[:pos+1])
				xbh := xb[h*hs : (h+1)*hs]
				clear(xbh)
				for t := 0; t <= pos; t++ {
					vt := vc[loff+t*kvDim+(h/kvMul)*hs:]
					for i := 0; i < hs; i++ {
						xbh[i] += att[t] * vt[i]
					}
				}
			}
			matmul(xb2, xb, r.wo[l*dim*dim:], dim, dim)
			for i := range x {
				x[i] += xb2[i]
			}
			rmsnorm(xb, x, r.rmsFFN[l*dim:])
			matmul(hb, xb, r.w1[l*dim*r.hidden:], dim, r.hidden)
			matmul(hb2, xb, r.w3[l*dim*r.hidden:], dim, r.hidden)
			for i := range hb {
				val := hb[i]
				val *= 1 / (1 + float32(math.Exp(float64(-val))))
				hb[i] = val * hb2[i]
			}
			matmul(xb, hb, r.w2[l*dim*r.hidden:], r.hidden, dim)
			for i := range x {
				x[i] += xb[i]
			}
		}
		final := make([]float32, dim)
		rmsnorm(final, x, r.rmsFinal)
		logits := make([]float32, r.vocab)
		matmul(logits, final, r.wcls, dim, r.vocab)
		out = append(out, logits)
	}
	return out
}
