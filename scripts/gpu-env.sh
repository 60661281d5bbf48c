# Source this file to run golem on an NVIDIA GPU through XLA with the CUDA PJRT plugin that a JAX
# installation already carries (pip's jax-cuda13-pjrt / jax-cuda13-plugin and nvidia-* wheels):
#
#   . scripts/gpu-env.sh && go run ./cmd/pretrain --config configs/gpt2-124m.yaml
#
# It exports GOMLX_BACKEND=xla:/abs/path/xla_cuda_plugin.so (backends.New picks it up with no
# other step), LD_LIBRARY_PATH (the nvidia wheels' lib folders: cuDNN, cuBLAS, NCCL...), XLA_FLAGS
# with the CUDA data dir (ptxas, libdevice) and GOMLX_NO_AUTO_INSTALL=1 (never download a plugin).
# Nothing is installed. On failure it says what is missing and returns 1 (the shell stays open).
#
# Knobs: GOLEM_PYTHON=interpreter that has jax (default: python3, then /opt/*/.venv/bin/python3);
# GOLEM_PJRT_PLUGIN=/abs/path/plugin.so skips the search; GOLEM_GPU_SKIP_CHECK=1 skips the GPU check
# (to prepare the environment on a machine without one).

golem_gpu_env() {
	local py="" sp="" plugin="${GOLEM_PJRT_PLUGIN:-}" cand
	if [ -z "$plugin" ]; then
		for cand in ${GOLEM_PYTHON:-python3 /opt/*/.venv/bin/python3 /usr/bin/python3}; do
			command -v "$cand" >/dev/null 2>&1 || continue
			plugin=$("$cand" -c 'import importlib.util as u, os
for m in ("jax_plugins.xla_cuda13", "jax_plugins.xla_cuda12"):
    try:
        s = u.find_spec(m)
    except Exception:
        s = None
    if s and s.submodule_search_locations:
        p = os.path.join(list(s.submodule_search_locations)[0], "xla_cuda_plugin.so")
        if os.path.isfile(p):
            print(p); break' 2>/dev/null)
			if [ -n "$plugin" ]; then
				py=$cand
				break
			fi
		done
		if [ -z "$plugin" ]; then
			echo "gpu-env: no JAX CUDA PJRT plugin found (looked for jax_plugins.xla_cuda13/xla_cuda12 in: ${GOLEM_PYTHON:-python3 /opt/*/.venv/bin/python3 /usr/bin/python3})." >&2
			echo "gpu-env: install JAX with CUDA (jax-cuda13-pjrt, jax-cuda13-plugin), set GOLEM_PYTHON to the interpreter that has it, or set GOLEM_PJRT_PLUGIN=/abs/path/xla_cuda_plugin.so." >&2
			return 1
		fi
	fi
	if [ ! -f "$plugin" ]; then
		echo "gpu-env: PJRT plugin $plugin does not exist; fix GOLEM_PJRT_PLUGIN." >&2
		return 1
	fi
	case "$plugin" in /*) ;; *) plugin="$PWD/$plugin" ;; esac

	# The nvidia-* wheels sit beside the plugin's package in site-packages: .../site-packages/nvidia/*/lib.
	if [ -n "$py" ]; then
		sp=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)
	fi
	[ -d "$sp/nvidia" ] || sp=$(dirname "$(dirname "$(dirname "$plugin")")")
	local libs="" cudadir=""
	if [ -d "$sp/nvidia" ]; then
		libs=$(ls -d "$sp"/nvidia/*/lib 2>/dev/null | paste -sd: -)
		for cand in "$sp/nvidia/cu13" "$sp/nvidia/cuda_nvcc" "$sp/nvidia/cu12"; do
			if [ -x "$cand/bin/ptxas" ]; then cudadir=$cand; break; fi
		done
	fi
	if [ -z "$cudadir" ]; then
		for cand in /usr/local/cuda /usr/local/cuda-13* /usr/lib/cuda; do
			if [ -x "$cand/bin/ptxas" ]; then cudadir=$cand; break; fi
		done
	fi
	if [ -z "$libs" ]; then
		echo "gpu-env: warning: no nvidia/*/lib folders next to $plugin; relying on the system's CUDA libraries (cuDNN, cuBLAS)." >&2
	fi
	if [ -z "$cudadir" ]; then
		echo "gpu-env: warning: no ptxas found (nvidia/cu13/bin, /usr/local/cuda/bin); XLA may fail to compile GPU kernels." >&2
	fi

	if [ "${GOLEM_GPU_SKIP_CHECK:-0}" != 1 ]; then
		if ! ls /dev/nvidia[0-9]* >/dev/null 2>&1 && ! nvidia-smi -L >/dev/null 2>&1; then
			echo "gpu-env: found the plugin $plugin but no NVIDIA GPU (no /dev/nvidia0, nvidia-smi -L fails); use --backend go on this machine, or set GOLEM_GPU_SKIP_CHECK=1 to export anyway." >&2
			return 1
		fi
	fi

	export GOMLX_BACKEND="xla:$plugin"
	export GOMLX_NO_AUTO_INSTALL=1
	export GOPJRT_CUDA_CHECKS=0
	[ -n "$libs" ] && export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	case "${XLA_FLAGS:-}" in
	*xla_gpu_cuda_data_dir*) ;;
	*) [ -n "$cudadir" ] && export XLA_FLAGS="--xla_gpu_cuda_data_dir=$cudadir${XLA_FLAGS:+ $XLA_FLAGS}" ;;
	esac
	# cuBLAS rather than Triton for matmuls: the gpt2-124m bf16 step took 120.4 ms instead of
	# 125.4 ms on an H200 (bench/gpu BenchmarkGPT2Step, batch 32). Set the flag yourself to override.
	case "${XLA_FLAGS:-}" in
	*xla_gpu_enable_triton_gemm*) ;;
	*) export XLA_FLAGS="${XLA_FLAGS:+$XLA_FLAGS }--xla_gpu_enable_triton_gemm=false" ;;
	esac
	echo "gpu-env: GOMLX_BACKEND=$GOMLX_BACKEND${cudadir:+ (CUDA data dir $cudadir)}" >&2
	return 0
}

if (return 0 2>/dev/null); then
	golem_gpu_env
else
	echo "gpu-env: source this file (. scripts/gpu-env.sh) so the exports reach your shell" >&2
	golem_gpu_env
	exit $?
fi
