// Package bench holds what golem's benchmark commands share.
package bench

// Presets are the configurations of GitHub issue 6 as --set overrides over the default run
// config (fp32, learned positions, pre-LayerNorm, exact GELU MLP, tied head, AdamW with decay on
// matrices only, clip 1.0).
var Presets = map[string][]string{
	"tiny": {"model.vocab_size=256", "model.seq_len=128", "model.width=128", "model.layers=4",
		"model.heads=4", "train.batch_size=16"},
	"small": {"model.vocab_size=8192", "model.seq_len=256", "model.width=384", "model.layers=6",
		"model.heads=6", "train.batch_size=8"},
}
