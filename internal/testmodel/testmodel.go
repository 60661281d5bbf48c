// Package testmodel gives tests a small real model to generate with: the aidreams260K
// llama2.c model in testdata (260K parameters, 512-token SentencePiece vocabulary, 128-token
// context), imported as a checkpoint and opened as the chat, sample and serve commands open one.
package testmodel

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/golem-ml/golem/convert"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/inference"
)

// Checkpoint imports aidreams260K into a temporary run folder and returns the folder.
func Checkpoint(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	testdata := filepath.Join(filepath.Dir(file), "..", "..", "testdata")
	m, err := convert.ImportLlama2C(filepath.Join(testdata, "models", "aidreams260K", "aidreams260K.bin"),
		filepath.Join(testdata, "tokenizer", "tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := convert.Save(m, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Aidreams opens Checkpoint on the Go backend, with a KV-cache engine over it.
func Aidreams(t testing.TB) (*inference.Model, *generate.Engine) {
	t.Helper()
	im, e, err := inference.OpenEngine("go", Checkpoint(t), "")
	if err != nil {
		t.Fatal(err)
	}
	return im, e
}
