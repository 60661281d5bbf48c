// Package scripts holds tests of the shell scripts beside them.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sourceEnv sources gpu-env.sh in bash with env added and returns its exit code, the exported
// GOMLX_BACKEND and XLA_FLAGS, and stderr.
func sourceEnv(t *testing.T, env ...string) (int, string, string) {
	cmd := exec.Command("bash", "-c", `. ./gpu-env.sh; rc=$?; echo "$rc|${GOMLX_BACKEND:-}|${XLA_FLAGS:-}"`)
	cmd.Env = append(os.Environ(), "GOMLX_BACKEND=", "XLA_FLAGS=")
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, stderr.String())
	}
	parts := strings.SplitN(strings.TrimSpace(string(out)), "|", 3)
	rc := 1
	if parts[0] == "0" {
		rc = 0
	}
	return rc, parts[1] + "|" + parts[2], stderr.String()
}

// gpu-env.sh's error paths, on a machine without a GPU: no plugin, a plugin path that does not
// exist, a plugin but no GPU; and the exports when the GPU check is skipped.
func TestGPUEnvErrors(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	if _, err := os.Stat("/dev/nvidia0"); err == nil {
		t.Skip("this machine has an NVIDIA GPU; the error paths need one without")
	}
	rc, _, msg := sourceEnv(t, "GOLEM_PYTHON=/nonexistent/python3")
	if rc == 0 || !strings.Contains(msg, "no JAX CUDA PJRT plugin found") || !strings.Contains(msg, "GOLEM_PJRT_PLUGIN") {
		t.Errorf("no python with jax: rc %d, message %q", rc, msg)
	}
	rc, _, msg = sourceEnv(t, "GOLEM_PJRT_PLUGIN=/nonexistent/xla_cuda_plugin.so")
	if rc == 0 || !strings.Contains(msg, "does not exist") {
		t.Errorf("missing plugin file: rc %d, message %q", rc, msg)
	}
	plugin := filepath.Join(t.TempDir(), "xla_cuda_plugin.so")
	if err := os.WriteFile(plugin, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rc, exports, msg := sourceEnv(t, "GOLEM_PJRT_PLUGIN="+plugin, "PATH=/usr/bin:/bin")
	if rc == 0 || !strings.Contains(msg, "no NVIDIA GPU") || strings.Contains(exports, "xla:") {
		t.Errorf("plugin without a GPU: rc %d, exports %q, message %q", rc, exports, msg)
	}
	rc, exports, msg = sourceEnv(t, "GOLEM_PJRT_PLUGIN="+plugin, "GOLEM_GPU_SKIP_CHECK=1")
	if rc != 0 || !strings.HasPrefix(exports, "xla:"+plugin+"|") || !strings.Contains(exports, "triton_gemm=false") {
		t.Errorf("skipped GPU check: rc %d, exports %q, message %q", rc, exports, msg)
	}
}

// gpu-check.sh --dry-run runs every step on the Go backend with a tiny model. It builds a test
// binary (about a minute), so it runs only with GOLEM_GPU_DRYRUN=1.
func TestGPUCheckDryRun(t *testing.T) {
	if os.Getenv("GOLEM_GPU_DRYRUN") != "1" {
		t.Skip("set GOLEM_GPU_DRYRUN=1 to run scripts/gpu-check.sh --dry-run (about a minute)")
	}
	cmd := exec.Command("bash", "gpu-check.sh", "--dry-run")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gpu-check.sh --dry-run: %v\n%s", err, out)
	}
	for _, want := range []string{"--- PASS: TestGPUTrainingAgreesWithGo", "--- PASS: TestGPUGenerationAgreesWithGo", "| gpt2-124m | bf16 |", "| gpt2-124m | fp32 |", "all GPU checks passed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
}
