package corpus

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"

	"github.com/golem-ml/golem/tokenizer"
)

// PrepareConfig configures the raw-shards -> token-shards pipeline.
type PrepareConfig struct {
	// Inputs are raw shards: files, globs or folders (see data.Expand). Every job must list the
	// same inputs: shard i of the sorted list is job (i mod NumShards)'s.
	Inputs []string
	// Out is the folder for token shards, manifest.json and tokenizer.json.
	Out string
	// WorkDir holds dedup state and per-shard reports; default Out/.work.
	WorkDir string
	Read    ReadOptions
	Filters FilterConfig
	Dedup   DedupConfig
	// Tokenizer encodes kept documents; each is written after an end-of-text token, as
	// llm.c's FineWeb script does.
	Tokenizer tokenizer.Tokenizer
	// ShardIndex and NumShards select this job's share of inputs and dedup tasks.
	ShardIndex, NumShards int
	// Workers is the number of goroutines filtering, hashing and tokenizing; default GOMAXPROCS.
	Workers int
	// Stage is one of StageAll (default), StageSignatures, StageDedup, StageTokenize.
	Stage string
	// MaxBadFraction fails the run when a shard's problems (malformed records, invalid
	// UTF-8, empty documents) exceed this share of its records.
	MaxBadFraction float64
	// DroppedSamples, when positive, keeps that many dropped documents per reason and
	// shard in WorkDir/dropped/<shard>.jsonl ({"reason","where","url","text"}, text cut
	// at 2000 bytes), to check what the filters remove.
	DroppedSamples int
	// Progress, when set, is called as input bytes are consumed (done and total for the run).
	Progress func(done, total int64)
	// Log receives one line per problem and per finished shard; may be nil.
	Log io.Writer
	// OptionNames is how errors name these options: field name (MaxBadFraction,
	// Read.JSONL.TextField) -> the name its user knows, such as a command's flag (see Flags).
	// An option not in it is named by its field name.
	OptionNames map[string]string
}

// name is how errors call an option: its OptionNames entry, else its field name.
func (c *PrepareConfig) name(field string) string {
	if n, ok := c.OptionNames[field]; ok {
		return n
	}
	return field
}

func (c *PrepareConfig) defaults() error {
	if c.Stage == "" {
		c.Stage = StageAll
	}
	if c.NumShards <= 0 {
		c.NumShards = 1
	}
	if c.ShardIndex < 0 || c.ShardIndex >= c.NumShards {
		return fmt.Errorf("%s %d must be in [0, %s %d)", c.name("ShardIndex"), c.ShardIndex, c.name("NumShards"), c.NumShards)
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.WorkDir == "" {
		c.WorkDir = filepath.Join(c.Out, ".work")
	}
	if c.Out == "" {
		return fmt.Errorf("%s: no output folder given", c.name("Out"))
	}
	switch c.Stage {
	case StageAll, StageSignatures, StageDedup, StageTokenize:
	default:
		return fmt.Errorf("%s %q; use all, signatures, dedup or tokenize", c.name("Stage"), c.Stage)
	}
	if c.Stage == StageAll && c.NumShards > 1 && c.Dedup.Enabled() {
		return fmt.Errorf("%s all with %s %d: deduplication across jobs needs every job's signatures; run %s signatures, then dedup, then tokenize on all jobs (or %s none)", c.name("Stage"), c.name("NumShards"), c.NumShards, c.name("Stage"), c.name("Dedup"))
	}
	if c.Tokenizer == nil {
		c.Tokenizer = tokenizer.NewByte()
	}
	if c.Tokenizer.EOT() < 0 {
		return fmt.Errorf("%s has no end-of-text token to separate documents", c.name("Tokenizer"))
	}
	if c.MaxBadFraction < 0 || c.MaxBadFraction > 1 {
		return fmt.Errorf("%s %g must be in [0, 1]", c.name("MaxBadFraction"), c.MaxBadFraction)
	}
	return c.Filters.Validate(c.name("Filters"))
}
